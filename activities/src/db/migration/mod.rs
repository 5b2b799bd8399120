//! The schema, as sea-orm migrations. The migrator is the only source of the schema: tests and
//! the binaries run it, nothing creates tables from the entities. Plain portable DDL only, so the
//! same migrations run on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

mod m20260101_000001_initial;
mod m20261124_000002_inspections;
mod m20261201_000003_calendar;
mod m20261201_000004_stuck;
mod m20261201_000005_signin;
mod m20261201_000006_notice_documents;
mod m20261201_000007_template_pins;
mod m20261202_000008_directories;
mod m20261202_000009_campaigns;
mod m20261207_000010_campaign_mails_and_plans;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_initial::Migration),
            Box::new(m20261124_000002_inspections::Migration),
            Box::new(m20261201_000003_calendar::Migration),
            Box::new(m20261201_000004_stuck::Migration),
            Box::new(m20261201_000005_signin::Migration),
            Box::new(m20261201_000006_notice_documents::Migration),
            Box::new(m20261201_000007_template_pins::Migration),
            Box::new(m20261202_000008_directories::Migration),
            Box::new(m20261202_000009_campaigns::Migration),
            Box::new(m20261207_000010_campaign_mails_and_plans::Migration),
        ]
    }
}
