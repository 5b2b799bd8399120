//! Demo data for a first start: two districts of Beijing with their bureaus, four facilities and
//! one account per role, all with the password [`DEMO_PASSWORD`], and the two directories of
//! 双随机 for them (the homes by code, the inspectors by certificate). Runs only on an empty users
//! table, so it never touches a real installation.

use crate::Result;
use crate::db::entities::{directory_inspector, directory_target, facility, region, user};
use crate::password::hash_password;
use crate::store::Store;
use crate::store::directory::{SnapshotKind, take_snapshot};
use sea_orm::{ActiveValue::NotSet, EntityTrait, PaginatorTrait, Set, TransactionTrait};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "qingling-demo";

/// A demo account, to print at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub username: String,
    pub role: String,
    pub display_name: String,
    pub password: String,
}

struct NewUser {
    username: &'static str,
    display_name: &'static str,
    role: &'static str,
    region: Option<i64>,
    facility: Option<i64>,
}

/// Creates the demo data if there are no users yet; returns the accounts it created, or `None`
/// when the database already had users.
pub async fn seed_demo(store: &Store, now_ms: i64) -> Result<Option<Vec<DemoAccount>>> {
    if user::Entity::find().count(&store.db).await? > 0 {
        return Ok(None);
    }
    // One hash for every demo account: argon2 is deliberately slow (seconds in a debug build),
    // and these accounts share a published password anyway.
    let password_hash = hash_password(DEMO_PASSWORD);
    let txn = store.db.begin().await?;
    let result = async {
        let region = |code: &str, name: &str, level: &str, parent: Option<i64>, bureau: &str, prefix: &str| region::ActiveModel {
            id: NotSet,
            code: Set(code.into()),
            name: Set(name.into()),
            level: Set(level.into()),
            parent_id: Set(parent),
            bureau_name: Set(bureau.into()),
            notice_prefix: Set(prefix.into()),
        };
        let province = region::Entity::insert(region("110000", "北京市", "province", None, "北京市民政局", "京民")).exec(&txn).await?.last_insert_id;
        let city = region::Entity::insert(region("110100", "北京市", "city", Some(province), "北京市民政局", "京民")).exec(&txn).await?.last_insert_id;
        let chaoyang = region::Entity::insert(region("110105", "朝阳区", "district", Some(city), "朝阳区民政局", "朝民")).exec(&txn).await?.last_insert_id;
        let haidian = region::Entity::insert(region("110108", "海淀区", "district", Some(city), "海淀区民政局", "海民")).exec(&txn).await?.last_insert_id;

        let mut facilities = vec![];
        let homes = [
            (chaoyang, "朝阳区第一社会福利院", "北京市朝阳区双桥东路1号", "BJ110105-001", "welfare_home", 320, "B"),
            (chaoyang, "朝阳区康乐养老院", "北京市朝阳区康乐路8号", "BJ110105-002", "nursing_home", 80, "C"),
            (chaoyang, "望京颐养中心", "北京市朝阳区望京街16号", "BJ110105-003", "community_center", 40, "A"),
            (haidian, "海淀区温泉敬老院", "北京市海淀区温泉路21号", "BJ110108-001", "nursing_home", 120, "B"),
        ];
        for (region_id, name, address, ..) in homes {
            let row = facility::ActiveModel {
                id: NotSet,
                region_id: Set(region_id),
                name: Set(name.into()),
                address: Set(address.into()),
                email: Set(None),
                created_at_ms: Set(now_ms),
            };
            facilities.push(facility::Entity::insert(row).exec(&txn).await?.last_insert_id);
        }

        let people = [
            NewUser { username: "admin", display_name: "系统管理员", role: "admin", region: None, facility: None },
            NewUser { username: "supervisor", display_name: "王督办（朝阳区民政局）", role: "supervisor", region: Some(chaoyang), facility: None },
            NewUser { username: "haidian", display_name: "李督办（海淀区民政局）", role: "supervisor", region: Some(haidian), facility: None },
            NewUser { username: "inspector1", display_name: "赵检查（朝阳区）", role: "inspector", region: Some(chaoyang), facility: None },
            NewUser { username: "inspector2", display_name: "钱检查（朝阳区）", role: "inspector", region: Some(chaoyang), facility: None },
            NewUser {
                username: "facility1",
                display_name: "孙院长（朝阳区第一社会福利院）",
                role: "facility",
                region: Some(chaoyang),
                facility: Some(facilities[0]),
            },
            NewUser {
                username: "facility2",
                display_name: "周院长（朝阳区康乐养老院）",
                role: "facility",
                region: Some(chaoyang),
                facility: Some(facilities[1]),
            },
            NewUser {
                username: "facility3",
                display_name: "吴院长（海淀区温泉敬老院）",
                role: "facility",
                region: Some(haidian),
                facility: Some(facilities[3]),
            },
        ];
        let mut accounts = vec![];
        for p in people {
            let row = user::ActiveModel {
                id: NotSet,
                username: Set(p.username.into()),
                display_name: Set(p.display_name.into()),
                email: Set(format!("{}@example.test", p.username)),
                role: Set(p.role.into()),
                region_id: Set(p.region),
                facility_id: Set(p.facility),
                password_hash: Set(password_hash.clone()),
                locale: Set("zh-CN".into()),
                created_at_ms: Set(now_ms),
                certificate: Set(match p.username {
                    "inspector1" => Some("京执110105-0101".into()),
                    "inspector2" => Some("京执110105-0102".into()),
                    _ => None,
                }),
            };
            user::Entity::insert(row).exec_without_returning(&txn).await?;
            accounts.push(DemoAccount {
                username: p.username.into(),
                role: p.role.into(),
                display_name: p.display_name.into(),
                password: DEMO_PASSWORD.into(),
            });
        }
        for ((.., code, kind, beds, risk), id) in homes.iter().zip(&facilities) {
            let row = directory_target::ActiveModel {
                facility_id: Set(*id),
                code: Set(code.to_string()),
                facility_type: Set(kind.to_string()),
                beds: Set(*beds),
                risk: Set(risk.to_string()),
                updated_at_ms: Set(now_ms),
            };
            directory_target::Entity::insert(row).exec_without_returning(&txn).await?;
        }
        for (certificate, name, specialisms) in [("京执110105-0101", "赵检查", "fire"), ("京执110105-0102", "钱检查", "medical")] {
            let row = directory_inspector::ActiveModel {
                certificate: Set(certificate.into()),
                name: Set(name.into()),
                region_id: Set(chaoyang),
                qualification: Set("行政执法证".into()),
                specialisms: Set(specialisms.into()),
                availability: Set("available".into()),
                updated_at_ms: Set(now_ms),
            };
            directory_inspector::Entity::insert(row).exec_without_returning(&txn).await?;
        }
        Ok::<_, sea_orm::DbErr>(accounts)
    }
    .await;
    match result {
        Ok(accounts) => {
            for kind in [SnapshotKind::Targets, SnapshotKind::Inspectors] {
                take_snapshot(&txn, kind, "seed", None, now_ms).await?;
            }
            txn.commit().await?;
            Ok(Some(accounts))
        }
        Err(e) => {
            txn.rollback().await?;
            // Two processes starting together (console and worker) may both try; the loser
            // finds the winner's users and has nothing to do.
            if user::Entity::find().count(&store.db).await? > 0 { Ok(None) } else { Err(e.into()) }
        }
    }
}
