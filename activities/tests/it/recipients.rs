//! Who an audience is: per audience, in order, each address once, unusable ones left out.

use crate::Fixture;
use qingling_activities::db::entities::{facility, region, user};
use qingling_activities::recipients::{self, Recipient};
use qingling_rules::messages::Locale;
use qingling_rules::policy::Audience;
use sea_orm::{ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set};

async fn add_user(fx: &Fixture, username: &str, role: &str, email: &str) {
    let row = user::ActiveModel {
        id: NotSet,
        username: Set(username.into()),
        display_name: Set(format!("{username} 显示名")),
        email: Set(email.into()),
        role: Set(role.into()),
        region_id: Set((role != "facility" && role != "admin").then_some(fx.region_id)),
        facility_id: Set((role == "facility").then_some(fx.facility_id)),
        password_hash: Set("x".into()),
        locale: Set("zh-CN".into()),
        created_at_ms: Set(0),
        certificate: Set(None),
    };
    user::Entity::insert(row).exec(&fx.store.db).await.unwrap();
}

async fn emails(fx: &Fixture, audience: &[Audience], facility: &facility::Model, region_id: i64) -> Vec<String> {
    recipients::resolve(&fx.store.db, audience, facility, region_id).await.unwrap().into_iter().map(|r| r.email).collect()
}

#[tokio::test]
async fn each_audience_names_its_people_once_with_a_usable_address() {
    let fx = Fixture::new().await;
    let facility = fx.store.facility(fx.facility_id).await.unwrap().unwrap();
    let r = fx.region_id;

    assert_eq!(emails(&fx, &[Audience::Facility], &facility, r).await, ["facility1@example.test"]);
    assert_eq!(emails(&fx, &[Audience::Inspector], &facility, r).await, ["inspector1@example.test", "inspector2@example.test"]);
    assert_eq!(emails(&fx, &[Audience::Supervisor], &facility, r).await, ["supervisor@example.test"], "not Haidian's");
    assert_eq!(emails(&fx, &[Audience::Admin], &facility, r).await, ["admin@example.test"]);
    // Each reads their own language.
    let inspectors = recipients::resolve(&fx.store.db, &[Audience::Inspector], &facility, r).await.unwrap();
    assert_eq!(inspectors[1], Recipient { email: "inspector2@example.test".into(), name: "inspector2 显示名".into(), locale: Locale::En });

    // A matter keeps the region it was issued in: its supervisors are that region's.
    let haidian = region::Entity::find().filter(region::Column::Code.eq("110108")).one(&fx.store.db).await.unwrap().unwrap();
    assert_eq!(emails(&fx, &[Audience::Supervisor], &facility, haidian.id).await, ["haidian@example.test"]);

    // The facility's own address comes first, trimmed, under the facility's name, in Chinese.
    let with_office = facility::Model { email: Some(" office@example.test ".into()), ..facility.clone() };
    let people = recipients::resolve(&fx.store.db, &[Audience::Facility], &with_office, r).await.unwrap();
    assert_eq!(people[0], Recipient { email: "office@example.test".into(), name: facility.name.clone(), locale: Locale::ZhCn });
    assert_eq!(people.len(), 2);
    let blank = facility::Model { email: Some("  ".into()), ..facility.clone() };
    assert_eq!(emails(&fx, &[Audience::Facility], &blank, r).await, ["facility1@example.test"]);

    // Unusable addresses are left out; an address met again (in any case) is not repeated.
    add_user(&fx, "broken", "inspector", "not an address").await;
    add_user(&fx, "empty", "inspector", " ").await;
    add_user(&fx, "shouting", "supervisor", "INSPECTOR1@example.test").await;
    add_user(&fx, "deputy", "facility", " deputy@example.test ").await;
    assert_eq!(
        emails(&fx, &[Audience::Facility, Audience::Inspector, Audience::Supervisor, Audience::Facility, Audience::Admin], &facility, r).await,
        [
            "facility1@example.test",
            "deputy@example.test",
            "inspector1@example.test",
            "inspector2@example.test",
            "supervisor@example.test",
            "admin@example.test"
        ]
    );
    assert!(emails(&fx, &[], &facility, r).await.is_empty());
}
