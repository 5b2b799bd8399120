//! The evidence store refuses what the policy does not allow and keeps files by content.

use crate::{Driver, Fixture, monday_10am};
use qingling_activities::evidence::{self, Error, path_of};
use qingling_rules::policy::EvidenceRules;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn rules() -> EvidenceRules {
    EvidenceRules { max_bytes: 64, types: vec!["image/png".into(), "application/pdf".into()], max_files_per_matter: 10 }
}

#[tokio::test]
async fn refusals_say_exactly_why() {
    let fx = Fixture::new().await;
    let store = |bytes: Vec<u8>| {
        let fx = &fx;
        async move { evidence::store(&fx.store, &rules(), &bytes, "x", "m", 1, 0).await }
    };
    assert!(matches!(store(vec![]).await, Err(Error::Empty)));
    assert!(matches!(store(vec![0x89; 65]).await, Err(Error::TooLarge { max: 64, got: 65 })));
    assert!(matches!(store(b"GIF89a....".to_vec()).await, Err(Error::UnknownType)));
    match store(vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).await {
        Err(Error::TypeNotAllowed(t)) => assert_eq!(t, "image/jpeg"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_png_is_stored_once_under_its_hash() {
    let fx = Fixture::new().await;
    let now = monday_10am();
    let mut d = Driver::open("m-ev", fx.facility_id, fx.supervisor_actor(), now);
    fx.activities().persist_batch(&d.take_batch()).await.unwrap();

    let stored = evidence::store(&fx.store, &rules(), PNG, "C:\\fakepath\\通道.png", "m-ev", fx.facility_user.id, now).await.unwrap();
    assert_eq!(stored.content_type, "image/png");
    assert_eq!(stored.name, "通道.png");
    assert_eq!(stored.bytes, PNG.len() as u64);
    assert_eq!(stored.sha256.len(), 64);
    let path = path_of(&fx.store, &stored.sha256);
    assert!(path.ends_with(format!("evidence/{}/{}", &stored.sha256[..2], stored.sha256)), "{}", path.display());
    assert_eq!(std::fs::read(&path).unwrap(), PNG);

    let again = evidence::store(&fx.store, &rules(), PNG, "copy.png", "m-ev", fx.facility_user.id, now + 1).await.unwrap();
    assert_eq!(again.sha256, stored.sha256);
    let rows = fx.store.evidence_for("m-ev").await.unwrap();
    assert_eq!(rows.len(), 1, "one row per file and matter");
    assert_eq!(rows[0].original_name, "通道.png");
    let shard = path.parent().unwrap();
    assert_eq!(std::fs::read_dir(shard).unwrap().count(), 1, "no temporary files are left behind");
}
