//! Table tests of the draw: the RFC's own example, quotas, strata, always-included and excluded
//! targets, recusal, short teams, the load cap, and the fast structures against plain ones.

use super::*;

/// RFC 3797 section 6 (its fully worked example; also in ../shared/domain/RULES.md §2).
fn rfc_sources() -> Vec<SourceValues> {
    vec![SourceValues::Numbers(vec![9319]), SourceValues::Numbers(vec![2, 5, 12, 8, 10]), SourceValues::Numbers(vec![9, 18, 26, 34, 41, 45])]
}

#[test]
fn the_rfcs_worked_example_gives_the_rfcs_key_and_selection() {
    let key = key_string(&rfc_sources()).unwrap();
    assert_eq!(key, "9319./2.5.8.10.12./9.18.26.34.41.45./");
    let chosen: Vec<usize> = select(&key, 25, 10).unwrap().into_iter().map(|i| i + 1).collect();
    assert_eq!(chosen, [17, 7, 2, 16, 25, 23, 8, 24, 19, 13]);
    assert_eq!(parse_sources("9319/2 5 12 8 10/9 18 26 34 41 45").unwrap(), rfc_sources());
}

#[test]
fn the_order_numbers_came_out_in_does_not_matter_but_every_value_does() {
    let a = key_string(&[SourceValues::Numbers(vec![45, 9, 18])]).unwrap();
    assert_eq!(a, key_string(&[SourceValues::Numbers(vec![9, 18, 45])]).unwrap());
    let c = key_string(&[SourceValues::Numbers(vec![9, 18, 44])]).unwrap();
    assert_ne!(select(&a, 100, 10).unwrap(), select(&c, 100, 10).unwrap());
    assert_eq!(key_string(&[SourceValues::Numbers(vec![7]), SourceValues::Text(" 3051.21 ".into())]).unwrap(), "7./3051.21/");
    assert_eq!(key_string(&[SourceValues::Numbers(vec![7, 0, 10])]).unwrap(), "0.7.10./", "no leading zeros, numeric order");
}

#[test]
fn a_draw_refuses_what_it_cannot_do_fairly() {
    assert_eq!(key_string(&[]).unwrap_err().code, "draw.no_sources");
    let e = key_string(&[SourceValues::Numbers(vec![1]), SourceValues::Numbers(vec![])]).unwrap_err();
    assert_eq!((e.code.as_str(), e.arg_value("source")), ("draw.empty_source", Some("2")));
    assert_eq!(key_string(&[SourceValues::Text("  ".into())]).unwrap_err().code, "draw.empty_source");
    assert_eq!(key_string(&[SourceValues::Text("a/b".into())]).unwrap_err().code, "draw.empty_source", "a slash would forge a source boundary");
    assert_eq!(select("k/", 3, 4).unwrap_err().code, "draw.too_many");
    assert_eq!(select("k/", MAX_POOL + 1, 1).unwrap_err().code, "draw.pool_too_large");
    assert_eq!(select("k/", 0, 0).unwrap(), Vec::<usize>::new());
    let e = parse_sources("1 2/x 3").unwrap_err();
    assert_eq!((e.code.as_str(), e.arg_value("source"), e.arg_value("value")), ("draw.not_a_number", Some("2"), Some("x 3")));
    assert_eq!(parse_sources("1 2//3").unwrap_err().code, "draw.empty_source");
    assert_eq!(parse_sources("-1").unwrap_err().code, "draw.not_a_number");
}

/// The plain way, as the RFC's reference code does it: a list, and the chosen one removed.
fn select_plainly(key: &str, pool: usize, count: usize) -> Vec<usize> {
    let mut left: Vec<usize> = (0..pool).collect();
    (0..count).map(|i| left.remove(position(key, i as u16, left.len()) - 1)).collect()
}

#[test]
fn the_fast_selection_is_the_plain_one() {
    for (pool, count) in [(1, 1), (2, 2), (7, 3), (100, 100), (1000, 37), (4097, 500)] {
        assert_eq!(select("1.2.3./", pool, count).unwrap(), select_plainly("1.2.3./", pool, count), "{pool}/{count}");
    }
    let mut all = select("1.2.3./", 40, 40).unwrap();
    all.sort_unstable();
    assert_eq!(all, (0..40).collect::<Vec<_>>(), "a whole pool drawn is a permutation");
}

#[test]
fn the_modulus_is_taken_over_all_128_bits() {
    // 2^120 mod 7 = 2^(120 mod 3) mod 7 = 1, since 2^3 = 8 ≡ 1 (mod 7).
    let mut digest = [0u8; 16];
    digest[0] = 1;
    assert_eq!(digest_mod(&digest, 7), 1);
    assert_eq!(digest_mod(&[0xff; 16], 1), 0);
    assert_eq!(digest_mod(&[0xff; 16], u64::MAX), (u128::MAX % u128::from(u64::MAX)) as u64);
}

#[test]
fn quotas_round_up_and_never_exceed_the_stratum() {
    for (population, permille, want) in
        [(0, 50, 0), (1, 50, 1), (19, 50, 1), (20, 50, 1), (21, 50, 2), (10, 200, 2), (11, 200, 3), (5, 1000, 5), (5, 0, 0), (3, 1500, 3)]
    {
        assert_eq!(quota(population, permille), want, "{population} at {permille}‰");
    }
}

fn target(id: &str, district: &str, risk: RiskClass) -> Target {
    Target {
        id: id.into(),
        district: district.into(),
        facility_type: "nursing_home".into(),
        risk,
        open_major_hazards: 0,
        credit_listed: false,
        last_inspected: BTreeMap::new(),
    }
}

fn inspector(id: &str, district: &str, specialisms: &[&str]) -> Inspector {
    Inspector { id: id.into(), district: district.into(), specialisms: specialisms.iter().map(|s| s.to_string()).collect(), available: true }
}

fn plan() -> Plan {
    Plan {
        items: vec!["joint-inspection".into()],
        districts: vec![],
        facility_types: vec![],
        ratio_permille: [(RiskClass::A, 50), (RiskClass::B, 200), (RiskClass::C, 600), (RiskClass::D, 1000)].into_iter().collect(),
        exclude_inspected_since: Some("2026-01-01".into()),
        team_size: 2,
        required_specialisms: vec![],
        load_cap: 100,
        not_own_district: false,
    }
}

/// 40 facilities in two districts, ten of each risk class; eight inspectors.
fn directory() -> (Vec<Target>, Vec<Inspector>) {
    let mut targets = vec![];
    for (d, district) in ["110105", "110108"].iter().enumerate() {
        for (r, risk) in RiskClass::ALL.iter().enumerate() {
            for n in 0..5 {
                targets.push(target(&format!("F{d}{r}{n:02}"), district, *risk));
            }
        }
    }
    let inspectors = (0..8).map(|n| inspector(&format!("I{n}"), if n % 2 == 0 { "110105" } else { "110108" }, if n < 3 { &["fire"] } else { &[] })).collect();
    (targets, inspectors)
}

const KEY: &str = "9319./2.5.8.10.12./9.18.26.34.41.45./";

#[test]
fn targets_are_drawn_per_stratum_by_quota() {
    let (targets, inspectors) = directory();
    let d = draw(KEY, &plan(), &targets, &inspectors, &[]).unwrap();
    let quotas: Vec<(String, usize, usize)> = d.strata.iter().map(|s| (s.name.clone(), s.population, s.quota)).collect();
    assert_eq!(
        quotas,
        vec![
            ("110105/A".to_string(), 5, 1),
            ("110105/B".into(), 5, 1),
            ("110105/C".into(), 5, 3),
            ("110105/D".into(), 5, 5),
            ("110108/A".into(), 5, 1),
            ("110108/B".into(), 5, 1),
            ("110108/C".into(), 5, 3),
            ("110108/D".into(), 5, 5),
        ]
    );
    assert_eq!(d.targets.len(), 20);
    // Each drawn target is in its stratum and names the selection that chose it.
    for t in &d.targets {
        let Chosen::Drawn { stratum, index, position: p } = &t.chosen else { panic!("{t:?}") };
        let member = targets.iter().find(|x| x.id == t.target).unwrap();
        assert_eq!(stratum, &format!("{}/{}", member.district, member.risk.as_str()));
        assert!(*p >= 1 && *index < 5);
    }
    assert_eq!(d.teams.len(), 20);
    assert!(d.teams.iter().all(|t| t.inspectors.len() == 2 && t.inspectors[0] != t.inspectors[1]));
}

#[test]
fn the_same_inputs_in_any_order_give_the_same_draw_and_another_key_another() {
    let (mut targets, mut inspectors) = directory();
    let a = draw(KEY, &plan(), &targets, &inspectors, &[]).unwrap();
    targets.reverse();
    inspectors.rotate_left(3);
    assert_eq!(draw(KEY, &plan(), &targets, &inspectors, &[]).unwrap(), a);
    let b = draw("1./", &plan(), &targets, &inspectors, &[]).unwrap();
    assert_ne!(b.targets, a.targets);
}

#[test]
fn listed_and_hazardous_homes_are_always_drawn_and_recently_inspected_ones_left_out() {
    let (mut targets, inspectors) = directory();
    targets[0].credit_listed = true; // F0000, district 110105, class A
    targets[1].open_major_hazards = 2; // F0001
    targets[1].last_inspected.insert("joint-inspection".into(), "2026-03-01".into());
    targets[2].last_inspected.insert("joint-inspection".into(), "2026-03-01".into()); // excluded
    targets[3].last_inspected.insert("joint-inspection".into(), "2025-12-31".into()); // last year: eligible
    targets[4].last_inspected.insert("fire-major-hazard".into(), "2026-05-01".into()); // other items: eligible
    let d = draw(KEY, &plan(), &targets, &inspectors, &[]).unwrap();
    let by = |id: &str| d.targets.iter().find(|t| t.target == id).map(|t| t.chosen.clone());
    assert_eq!(by("F0000"), Some(Chosen::Always { reason: "credit_listed".into() }));
    assert_eq!(by("F0001"), Some(Chosen::Always { reason: "open_major_hazard".into() }), "drawn though inspected this year");
    assert_eq!(d.excluded, ["F0002"]);
    assert_eq!(d.strata[0].population, 2, "F0003 and F0004 are left to draw from in 110105/A");
}

#[test]
fn the_scope_limits_districts_and_types() {
    let (mut targets, inspectors) = directory();
    targets[5].facility_type = "community_center".into();
    let p = Plan { districts: vec!["110105".into()], facility_types: vec!["nursing_home".into()], ..plan() };
    let d = draw(KEY, &p, &targets, &inspectors, &[]).unwrap();
    assert!(d.strata.iter().all(|s| s.name.starts_with("110105/")));
    assert_eq!(d.strata[1].population, 4, "one B-class home is of another type");
}

#[test]
fn a_conflicted_inspector_is_skipped_and_the_skip_recorded() {
    let (targets, inspectors) = directory();
    let p = Plan { ratio_permille: [(RiskClass::D, 1000)].into_iter().collect(), ..plan() };
    let plain = draw(KEY, &p, &targets, &inspectors, &[]).unwrap();
    let first = &plain.teams[0];
    let conflicts = vec![Conflict { inspector: first.inspectors[0].clone(), target: first.target.clone(), relation: "former_employer".into() }];
    let d = draw(KEY, &p, &targets, &inspectors, &conflicts).unwrap();
    let team = &d.teams[0];
    assert!(!team.inspectors.contains(&first.inspectors[0]));
    let skip = &team.picks[0];
    assert_eq!((skip.inspector.as_str(), skip.skipped.as_deref()), (first.inspectors[0].as_str(), Some("conflict:former_employer")));
    assert_eq!(team.picks.len(), 3, "one skip, two assigned");
    assert!(team.picks.windows(2).all(|w| w[1].index == w[0].index + 1), "indices run on through a skip");

    let own = Plan { not_own_district: true, ..p };
    let d = draw(KEY, &own, &targets, &inspectors, &[]).unwrap();
    for team in &d.teams {
        let district = &targets.iter().find(|t| t.id == team.target).unwrap().district;
        assert!(team.inspectors.iter().all(|i| &inspectors.iter().find(|x| &x.id == i).unwrap().district != district));
        assert!(team.picks.iter().filter(|p| p.skipped.is_some()).all(|p| p.skipped.as_deref() == Some("own_district")));
    }
}

#[test]
fn every_team_has_its_required_specialisms_and_a_short_team_is_refused() {
    let (targets, mut inspectors) = directory();
    let p = Plan { required_specialisms: vec!["fire".into()], ..plan() };
    let d = draw(KEY, &p, &targets, &inspectors, &[]).unwrap();
    for team in &d.teams {
        assert!(team.inspectors.iter().any(|i| ["I0", "I1", "I2"].contains(&i.as_str())), "{team:?}");
    }
    inspectors.iter_mut().filter(|i| i.specialisms.contains("fire")).for_each(|i| i.available = false);
    let e = draw(KEY, &p, &targets, &inspectors, &[]).unwrap_err();
    assert_eq!((e.code.as_str(), e.arg_value("specialism"), e.arg_value("have")), ("draw.team_short_specialism", Some("fire"), Some("0")));
    let three = Plan { team_size: 9, ..plan() };
    let e = draw(KEY, &three, &targets, &inspectors, &[]).unwrap_err();
    assert_eq!((e.code.as_str(), e.arg_value("size"), e.arg_value("have")), ("draw.team_short", Some("9"), Some("5")));
}

#[test]
fn no_inspector_is_given_more_targets_than_the_cap() {
    let (targets, inspectors) = directory();
    let p = Plan { load_cap: 6, ..plan() };
    let d = draw(KEY, &p, &targets, &inspectors, &[]).unwrap();
    let mut load: BTreeMap<&str, u32> = BTreeMap::new();
    d.teams.iter().flat_map(|t| &t.inspectors).for_each(|i| *load.entry(i).or_default() += 1);
    assert!(load.values().all(|n| *n <= 6), "{load:?}");
    assert_eq!(load.values().sum::<u32>(), 40);
    let tight = Plan { load_cap: 4, ..plan() };
    assert_eq!(draw(KEY, &tight, &targets, &inspectors, &[]).unwrap_err().code, "draw.team_short", "40 places, 8 × 4 = 32 to give");
}

/// The team draw as DRAW.md states it, with plain lists: the fast one must agree.
fn teams_plainly(key: &str, plan: &Plan, chosen: &[DrawnTarget], targets: &[Target], inspectors: &[Inspector], conflicts: &[Conflict]) -> Vec<Team> {
    let mut pool: Vec<&Inspector> = inspectors.iter().filter(|i| i.available).collect();
    pool.sort_by(|a, b| a.id.cmp(&b.id));
    let mut load: BTreeMap<String, u32> = BTreeMap::new();
    let mut teams = vec![];
    for drawn in chosen {
        let target = targets.iter().find(|t| t.id == drawn.target).unwrap();
        let tkey = team_key(key, &target.id);
        let (mut team, mut passed, mut picks, mut index) = (Vec::<String>::new(), BTreeSet::<String>::new(), vec![], 0u16);
        let mut slots: Vec<Option<String>> = plan.required_specialisms.iter().cloned().map(Some).collect();
        slots.extend(std::iter::repeat_n(None, (plan.team_size as usize).saturating_sub(slots.len())));
        for slot in slots {
            if slot.as_ref().is_some_and(|s| team.iter().any(|id| pool.iter().any(|i| &i.id == id && i.specialisms.contains(s)))) {
                continue;
            }
            loop {
                let candidates: Vec<&&Inspector> = pool
                    .iter()
                    .filter(|i| !team.contains(&i.id) && !passed.contains(&i.id) && load.get(&i.id).copied().unwrap_or(0) < plan.load_cap)
                    .filter(|i| slot.as_ref().is_none_or(|s| i.specialisms.contains(s)))
                    .collect();
                let p = position(&tkey, index, candidates.len());
                let c = candidates[p - 1];
                // The first declared relation in canonical order (by relation name).
                let skipped = conflicts
                    .iter()
                    .filter(|x| x.inspector == c.id && x.target == target.id)
                    .map(|x| &x.relation)
                    .min()
                    .map(|r| format!("conflict:{r}"))
                    .or_else(|| (plan.not_own_district && c.district == target.district).then(|| "own_district".to_string()));
                picks.push(Pick { index, position: p, inspector: c.id.clone(), for_specialism: slot.clone(), skipped: skipped.clone() });
                index += 1;
                if skipped.is_none() {
                    team.push(c.id.clone());
                    *load.entry(c.id.clone()).or_default() += 1;
                    break;
                }
                passed.insert(c.id.clone());
            }
        }
        teams.push(Team { target: target.id.clone(), inspectors: team, picks });
    }
    teams
}

#[test]
fn the_fast_team_draw_is_the_plain_one() {
    // A deterministic spread of inputs: conflicts, specialisms, caps and the own-district rule.
    let mut seed: u64 = 38600;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for round in 0..30 {
        let districts = ["110105", "110108", "110101"];
        let targets: Vec<Target> = (0..60).map(|n| target(&format!("T{n:03}"), districts[next(3) as usize], RiskClass::ALL[next(4) as usize])).collect();
        let specialisms = ["fire", "medical", "food", "building"];
        let inspectors: Vec<Inspector> = (0..25)
            .map(|n| {
                let mut i = inspector(&format!("P{n:02}"), districts[next(3) as usize], &[]);
                for s in specialisms {
                    if next(3) == 0 {
                        i.specialisms.insert(s.to_string());
                    }
                }
                i.available = next(10) != 0;
                i
            })
            .collect();
        let conflicts: Vec<Conflict> = (0..40)
            .map(|_| Conflict {
                inspector: format!("P{:02}", next(25)),
                target: format!("T{:03}", next(60)),
                relation: ["relative", "former_employer"][next(2) as usize].into(),
            })
            .collect();
        let p = Plan {
            team_size: 2 + next(2) as u32,
            required_specialisms: specialisms.iter().take(next(3) as usize).map(|s| s.to_string()).collect(),
            load_cap: 6 + next(10) as u32,
            not_own_district: next(2) == 0,
            ..plan()
        };
        let fast = draw(KEY, &p, &targets, &inspectors, &conflicts);
        let Ok(fast) = fast else { continue };
        let plain = teams_plainly(KEY, &p, &fast.targets, &targets, &inspectors, &conflicts);
        assert_eq!(fast.teams, plain, "round {round}");
    }
}

fn bundle() -> Bundle {
    let (targets, inspectors) = directory();
    let dir = InspectorDirectory { inspectors, conflicts: vec![Conflict { inspector: "I3".into(), target: "F0300".into(), relation: "relative".into() }] };
    let sources =
        vec![SourceName { name: "福彩3D第2026320期".into(), kind: "numbers".into() }, SourceName { name: "见证人宣读".into(), kind: "numbers".into() }];
    let commitment = Commitment::new(plan(), &targets, &dir, sources);
    Bundle::run(commitment, targets, dir, vec![SourceValues::Numbers(vec![3, 1, 4]), SourceValues::Numbers(vec![15, 92])], vec!["张见证".into()]).unwrap()
}

#[test]
fn a_bundle_verifies_and_every_change_to_it_is_named() {
    let b = bundle();
    assert_eq!(b.verify(), Ok(()));
    assert_eq!(b.result.key, "1.3.4./15.92./");
    let reread: Bundle = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
    assert_eq!(reread.verify(), Ok(()), "a bundle survives its JSON");

    let mut changed = b.clone();
    changed.targets[7].risk = RiskClass::D;
    assert!(changed.verify().unwrap_err().starts_with("targets: the directory in the bundle hashes to"));

    let mut changed = b.clone();
    changed.inspectors.conflicts.clear();
    assert!(changed.verify().unwrap_err().starts_with("inspectors: "));

    let mut changed = b.clone();
    changed.source_values[1] = SourceValues::Numbers(vec![15, 93]);
    assert!(changed.verify().unwrap_err().starts_with("result.key: "), "{:?}", changed.verify());

    let mut changed = b.clone();
    changed.result.teams[3].inspectors.swap(0, 1);
    assert_eq!(changed.verify().unwrap_err().split(':').next(), Some("result.teams[3].inspectors[0]"));

    let mut changed = b.clone();
    changed.result.targets.pop();
    assert!(changed.verify().unwrap_err().starts_with("result.targets"));

    let mut changed = b.clone();
    changed.source_values.pop();
    assert_eq!(changed.verify().unwrap_err(), "source_values: 1 values for 2 named sources");

    let mut changed = b;
    changed.commitment.algorithm = "qingling-draw/0".into();
    assert!(changed.verify().unwrap_err().starts_with("commitment.algorithm"));
}

#[test]
fn canonical_json_sorts_keys_and_writes_chinese_as_is() {
    let v = serde_json::json!({ "b": 1, "a": { "z": "朝阳", "y": [2, 1] } });
    assert_eq!(canonical_json(&v), r#"{"a":{"y":[2,1],"z":"朝阳"},"b":1}"#);
    assert_eq!(digest(&serde_json::json!([])), "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945");
}

#[test]
fn a_replacement_must_be_available_unconflicted_and_new_to_the_team() {
    let t = target("F1", "110105", RiskClass::B);
    let mut away = inspector("I9", "110108", &[]);
    away.available = false;
    let directory = InspectorDirectory {
        inspectors: vec![inspector("I1", "110108", &[]), inspector("I2", "110108", &[]), inspector("I3", "110108", &[]), inspector("I4", "110105", &[]), away],
        conflicts: vec![Conflict { inspector: "I3".into(), target: "F1".into(), relation: "relative".into() }],
    };
    let team = Team { target: "F1".into(), inspectors: vec!["I1".into(), "I2".into()], picks: vec![] };
    let own = Plan { not_own_district: true, ..plan() };
    let code = |who: &str| check_replacement(&own, &directory, &t, &team, who).err().map(|r| r.code);
    assert_eq!(code("I1").as_deref(), Some("campaign.already_in_team"));
    assert_eq!(code("I3").as_deref(), Some("campaign.conflicted"));
    assert_eq!(code("I4").as_deref(), Some("campaign.own_district"));
    assert_eq!(code("I9").as_deref(), Some("campaign.unavailable"));
    assert_eq!(code("I0").as_deref(), Some("campaign.unknown_inspector"));
    let ok = InspectorDirectory { inspectors: vec![inspector("I5", "110108", &[])], ..directory.clone() };
    assert!(check_replacement(&own, &ok, &t, &team, "I5").is_ok());
}
