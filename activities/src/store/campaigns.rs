//! Campaigns as their workflows stored them: the list a person may see, one campaign with its
//! events, homes and draw; and the districts a person may plan a campaign for.

use super::Store;
use super::directory::Regions;
use crate::Result;
use crate::db::entities::{campaign, campaign_event, campaign_plan, campaign_target, region, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeSet;

impl Store {
    /// The district codes a person may plan a campaign for: every district for an
    /// administrator, those of their region for a supervisor, none for anyone else.
    pub async fn plannable_districts(&self, who: &user::Model) -> Result<BTreeSet<String>> {
        let r = Regions::load(&self.db).await?;
        Ok(match (who.role.as_str(), who.region_id) {
            ("admin", _) => r.districts().map(|d| d.code.clone()).collect(),
            ("supervisor", Some(region)) => r.districts().filter(|d| r.within(d.id, region)).map(|d| d.code.clone()).collect(),
            _ => BTreeSet::new(),
        })
    }

    /// The region id of a district code.
    pub async fn district_id(&self, code: &str) -> Result<Option<i64>> {
        Ok(region::Entity::find().filter(region::Column::Code.eq(code)).one(&self.db).await?.map(|r| r.id))
    }

    fn sees_region(r: &Regions, who: &user::Model, region_id: i64) -> bool {
        match (who.role.as_str(), who.region_id) {
            ("admin", _) => true,
            ("supervisor", Some(region)) => r.within(region_id, region),
            _ => false,
        }
    }

    fn sees_campaign(r: &Regions, who: &user::Model, c: &campaign::Model) -> bool {
        Self::sees_region(r, who, c.region_id)
    }

    /// The campaigns a person may see, newest first.
    pub async fn campaigns_for(&self, who: &user::Model) -> Result<Vec<campaign::Model>> {
        let all = Regions::load(&self.db).await?;
        let rows = campaign::Entity::find().order_by_desc(campaign::Column::CreatedAtMs).all(&self.db).await?;
        Ok(rows.into_iter().filter(|c| Self::sees_campaign(&all, who, c)).collect())
    }

    /// One campaign, if the person may see it.
    pub async fn campaign_for(&self, who: &user::Model, id: &str) -> Result<Option<campaign::Model>> {
        let Some(c) = campaign::Entity::find_by_id(id.to_string()).one(&self.db).await? else { return Ok(None) };
        let all = Regions::load(&self.db).await?;
        Ok(Self::sees_campaign(&all, who, &c).then_some(c))
    }

    pub async fn campaign(&self, id: &str) -> Result<Option<campaign::Model>> {
        Ok(campaign::Entity::find_by_id(id.to_string()).one(&self.db).await?)
    }

    pub async fn campaign_events(&self, id: &str) -> Result<Vec<campaign_event::Model>> {
        Ok(campaign_event::Entity::find().filter(campaign_event::Column::CampaignId.eq(id)).order_by_asc(campaign_event::Column::Seq).all(&self.db).await?)
    }

    pub async fn campaign_targets(&self, id: &str) -> Result<Vec<campaign_target::Model>> {
        Ok(campaign_target::Entity::find().filter(campaign_target::Column::CampaignId.eq(id)).order_by_asc(campaign_target::Column::Id).all(&self.db).await?)
    }
}

impl Store {
    /// Keeps a recurring plan (its Schedule is made already).
    pub async fn save_campaign_plan(&self, row: campaign_plan::Model) -> Result<()> {
        use sea_orm::IntoActiveModel;
        campaign_plan::Entity::insert(row.into_active_model()).exec_without_returning(&self.db).await?;
        Ok(())
    }

    /// The recurring plans a person may see (those of campaigns they would see), newest first.
    pub async fn campaign_plans_for(&self, who: &user::Model) -> Result<Vec<campaign_plan::Model>> {
        let r = Regions::load(&self.db).await?;
        let rows = campaign_plan::Entity::find().order_by_desc(campaign_plan::Column::CreatedAtMs).all(&self.db).await?;
        Ok(rows.into_iter().filter(|p| Self::sees_region(&r, who, p.region_id)).collect())
    }

    /// One recurring plan, if the person may see it.
    pub async fn campaign_plan_for(&self, who: &user::Model, id: &str) -> Result<Option<campaign_plan::Model>> {
        let Some(p) = campaign_plan::Entity::find_by_id(id.to_string()).one(&self.db).await? else { return Ok(None) };
        let r = Regions::load(&self.db).await?;
        Ok(Self::sees_region(&r, who, p.region_id).then_some(p))
    }

    /// Marks a recurring plan stopped (once: a second stop keeps the first one's time and person).
    pub async fn stop_campaign_plan(&self, id: &str, by: i64, now_ms: i64) -> Result<()> {
        use sea_orm::sea_query::Expr;
        campaign_plan::Entity::update_many()
            .col_expr(campaign_plan::Column::StoppedBy, Expr::value(by))
            .col_expr(campaign_plan::Column::StoppedAtMs, Expr::value(now_ms))
            .filter(campaign_plan::Column::Id.eq(id))
            .filter(campaign_plan::Column::StoppedAtMs.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// A drawn home as the console shows it to oversight: who goes, and how far the inspection is.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CampaignHome {
    pub target: String,
    pub facility_id: i64,
    pub facility: String,
    /// The team's certificate numbers with the names the inspectors directory gives them now.
    pub team: Vec<(String, String)>,
    pub inspection_id: Option<String>,
    /// `assigned | in_progress | submitted | completed`, once the inspection exists.
    pub inspection_status: Option<String>,
    pub inspection_date: Option<String>,
    pub findings: Option<i32>,
}

impl Store {
    /// A campaign's drawn homes with their teams and inspections, in the order drawn (four
    /// queries, whatever the number of homes).
    pub async fn campaign_homes(&self, campaign_id: &str) -> Result<Vec<CampaignHome>> {
        use crate::db::entities::{directory_inspector, facility, inspection};
        use std::collections::HashMap;
        let targets = self.campaign_targets(campaign_id).await?;
        let facility_ids: Vec<i64> = targets.iter().map(|t| t.facility_id).collect();
        let names: HashMap<i64, String> =
            facility::Entity::find().filter(facility::Column::Id.is_in(facility_ids)).all(&self.db).await?.into_iter().map(|f| (f.id, f.name)).collect();
        let inspection_ids: Vec<String> = targets.iter().filter_map(|t| t.inspection_id.clone()).collect();
        let inspections: HashMap<String, inspection::Model> = if inspection_ids.is_empty() {
            HashMap::new()
        } else {
            inspection::Entity::find()
                .filter(inspection::Column::Id.is_in(inspection_ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|i| (i.id.clone(), i))
                .collect()
        };
        let teams: Vec<Vec<String>> = targets.iter().map(|t| serde_json::from_str(&t.team).unwrap_or_default()).collect();
        let certificates: BTreeSet<String> = teams.iter().flatten().cloned().collect();
        let people: HashMap<String, String> = if certificates.is_empty() {
            HashMap::new()
        } else {
            directory_inspector::Entity::find()
                .filter(directory_inspector::Column::Certificate.is_in(certificates))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|i| (i.certificate, i.name))
                .collect()
        };
        Ok(targets
            .into_iter()
            .zip(teams)
            .map(|(t, team)| {
                let i = t.inspection_id.as_ref().and_then(|id| inspections.get(id));
                CampaignHome {
                    facility: names.get(&t.facility_id).cloned().unwrap_or_default(),
                    team: team
                        .into_iter()
                        .map(|c| {
                            let name = people.get(&c).cloned().unwrap_or_default();
                            (c, name)
                        })
                        .collect(),
                    inspection_status: i.map(|i| i.status.clone()),
                    inspection_date: i.map(|i| i.date.clone()),
                    findings: i.and_then(|i| i.findings),
                    target: t.target_code,
                    facility_id: t.facility_id,
                    inspection_id: t.inspection_id,
                }
            })
            .collect())
    }
}

/// A drawn home as the public may see it: named only once its inspection is done (or at once
/// when the policy reveals drawn homes at the draw), with its results.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublicHome {
    pub facility_id: i64,
    pub facility: String,
    pub inspected_on: Option<String>,
    pub findings: Option<i32>,
    /// The notices' matters: (notice number, status, major hazard).
    pub notices: Vec<(String, String, bool)>,
}

impl Store {
    /// Campaigns past their commitment (the public may read those), newest first.
    pub async fn public_campaigns(&self, limit: u64) -> Result<Vec<campaign::Model>> {
        use sea_orm::QuerySelect;
        Ok(campaign::Entity::find()
            .filter(campaign::Column::Commitment.is_not_null())
            .order_by_desc(campaign::Column::CreatedAtMs)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// The homes of a campaign the public may see: those whose inspection is done, or every
    /// drawn one when `reveal_all`.
    pub async fn public_homes(&self, campaign_id: &str, reveal_all: bool) -> Result<Vec<PublicHome>> {
        use crate::db::entities::{facility, inspection, inspection_notice, matter};
        let targets = self.campaign_targets(campaign_id).await?;
        let mut out = vec![];
        for t in targets {
            let done = match &t.inspection_id {
                Some(id) => inspection::Entity::find_by_id(id.clone()).one(&self.db).await?.filter(|i| i.status == "completed"),
                None => None,
            };
            if done.is_none() && !reveal_all {
                continue;
            }
            let name = facility::Entity::find_by_id(t.facility_id).one(&self.db).await?.map(|f| f.name).unwrap_or_default();
            let mut notices = vec![];
            if let Some(i) = &done {
                for n in inspection_notice::Entity::find()
                    .filter(inspection_notice::Column::InspectionId.eq(i.id.clone()))
                    .order_by_asc(inspection_notice::Column::Idx)
                    .all(&self.db)
                    .await?
                {
                    let status = matter::Entity::find_by_id(n.matter_id.clone()).one(&self.db).await?.map(|m| m.status).unwrap_or_default();
                    notices.push((n.number, status, n.major_hazard));
                }
            }
            out.push(PublicHome {
                facility_id: t.facility_id,
                facility: name,
                inspected_on: done.as_ref().map(|i| i.date.clone()),
                findings: done.and_then(|i| i.findings),
                notices,
            });
        }
        Ok(out)
    }

    /// A facility's completed inspections, newest first: (date, template title, findings).
    pub async fn public_inspections(&self, facility_id: i64) -> Result<Vec<(String, String, Option<i32>)>> {
        use crate::db::entities::inspection;
        let rows = inspection::Entity::find()
            .filter(inspection::Column::FacilityId.eq(facility_id))
            .filter(inspection::Column::Status.eq("completed"))
            .order_by_desc(inspection::Column::Date)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|i| (i.date, i.title, i.findings)).collect())
    }
}
