//! Campaigns as their workflows stored them: the list a person may see, one campaign with its
//! events, homes and draw; and the districts a person may plan a campaign for.

use super::Store;
use crate::Result;
use crate::db::entities::{campaign, campaign_event, campaign_target, region, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, BTreeSet};

/// Whether `region` is `ancestor` or lies under it.
fn within(all: &BTreeMap<i64, region::Model>, mut region: i64, ancestor: i64) -> bool {
    for _ in 0..8 {
        if region == ancestor {
            return true;
        }
        match all.get(&region).and_then(|r| r.parent_id) {
            Some(parent) => region = parent,
            None => return false,
        }
    }
    false
}

impl Store {
    async fn regions(&self) -> Result<BTreeMap<i64, region::Model>> {
        Ok(region::Entity::find().all(&self.db).await?.into_iter().map(|r| (r.id, r)).collect())
    }

    /// The district codes a person may plan a campaign for: every district for an
    /// administrator, those of their region for a supervisor, none for anyone else.
    pub async fn plannable_districts(&self, who: &user::Model) -> Result<BTreeSet<String>> {
        let all = self.regions().await?;
        let districts = all.values().filter(|r| r.level == "district");
        Ok(match (who.role.as_str(), who.region_id) {
            ("admin", _) => districts.map(|d| d.code.clone()).collect(),
            ("supervisor", Some(region)) => districts.filter(|d| within(&all, d.id, region)).map(|d| d.code.clone()).collect(),
            _ => BTreeSet::new(),
        })
    }

    /// The region id of a district code.
    pub async fn district_id(&self, code: &str) -> Result<Option<i64>> {
        Ok(region::Entity::find().filter(region::Column::Code.eq(code)).one(&self.db).await?.map(|r| r.id))
    }

    fn sees_campaign(all: &BTreeMap<i64, region::Model>, who: &user::Model, c: &campaign::Model) -> bool {
        match (who.role.as_str(), who.region_id) {
            ("admin", _) => true,
            ("supervisor", Some(region)) => within(all, c.region_id, region),
            _ => false,
        }
    }

    /// The campaigns a person may see, newest first.
    pub async fn campaigns_for(&self, who: &user::Model) -> Result<Vec<campaign::Model>> {
        let all = self.regions().await?;
        let rows = campaign::Entity::find().order_by_desc(campaign::Column::CreatedAtMs).all(&self.db).await?;
        Ok(rows.into_iter().filter(|c| Self::sees_campaign(&all, who, c)).collect())
    }

    /// One campaign, if the person may see it.
    pub async fn campaign_for(&self, who: &user::Model, id: &str) -> Result<Option<campaign::Model>> {
        let Some(c) = campaign::Entity::find_by_id(id.to_string()).one(&self.db).await? else { return Ok(None) };
        let all = self.regions().await?;
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
