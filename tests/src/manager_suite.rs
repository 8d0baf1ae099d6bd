//! The Manager's behaviour on every backend: CRUD, get_or_create races, transactions and
//! savepoints, cancellation, isolation and the sync guard. `tests/manager_<backend>.rs`
//! instantiate it with [`manager_suite!`](crate::manager_suite!).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use orm_core::*;
use orm_manager::Manager;

use crate::cut::cut_after;
use crate::models::{
    Answer, AuditEntry, Audited, BlockTag, Comment, Draft, HookedBlock, Note, PageBlock, Post,
    Revision, Tag, Token, Topic, User, UserTag, Vote,
};
use crate::probe::Inspect;

/// A database the Manager runs on, whose busy sessions the tests can count.
pub trait Db: Database + Inspect {}
impl<T: Database + Inspect> Db for T {}

async fn setup<D: Db>(db: &D) -> Manager<D> {
    PageBlock::create_table_async(db, true)
        .await
        .expect("create page_block");
    User::create_table_async(db, true)
        .await
        .expect("create users");
    Post::create_table_async(db, true)
        .await
        .expect("create post");
    Manager::new(db.clone())
}

async fn keys<D: Db>(objects: &Manager<D>) -> Vec<String> {
    let q = PageBlock::select()
        .columns(PageBlock::KEY)
        .order_by(PageBlock::KEY);
    objects.execute(q).await.expect("keys")
}

/// `save` inserts a new object and updates a stored one by its key; a model whose key is
/// its own is inserted, then updated; a generated key no row has is `DoesNotExist`.
/// `exists`, `first` and `peek` look without fetching everything; `count` keeps the
/// query's LIMIT and `count_ignoring_limit` does not.
pub async fn save_and_look<D: Db>(db: &D) {
    let objects = setup(db).await;
    UserTag::create_table_async(db, true)
        .await
        .expect("create user_tag");
    let block = objects
        .save(PageBlock::new("k1", "one"))
        .await
        .expect("insert");
    assert!(block.id > 0, "a generated key");
    let mut changed = block.clone();
    changed.text = "uno".into();
    let saved = objects.save(changed).await.expect("update");
    assert_eq!(saved.id, block.id);
    let stored: PageBlock = objects
        .get(PageBlock::ID.eq(block.id))
        .await
        .expect("stored");
    assert_eq!(stored.text, "uno");
    assert_eq!(objects.count(PageBlock::select()).await.expect("count"), 1);
    let ghost = PageBlock {
        id: block.id + 1000,
        ..PageBlock::new("ghost", "")
    };
    let missing = objects.save(ghost).await;
    assert!(
        matches!(missing, Err(Error::DoesNotExist { model: "PageBlock" })),
        "{missing:?}"
    );

    let ann = objects
        .create(User::new("ann", 30, None))
        .await
        .expect("user");
    objects
        .save(UserTag::new(ann.id, "rust", 1))
        .await
        .expect("insert by its own key");
    objects
        .save(UserTag::new(ann.id, "rust", 2))
        .await
        .expect("update by its own key");
    let tags: Vec<UserTag> = objects.execute(UserTag::select()).await.expect("tags");
    assert_eq!(tags, [UserTag::new(ann.id, "rust", 2)]);

    assert!(objects
        .exists::<PageBlock, _>(PageBlock::KEY.eq("k1"))
        .await
        .expect("exists"));
    assert!(!objects
        .exists::<PageBlock, _>(PageBlock::KEY.eq("nope"))
        .await
        .expect("exists"));
    for key in ["k3", "k2"] {
        objects
            .create(PageBlock::new(key, ""))
            .await
            .expect("create");
    }
    let last = objects
        .first(PageBlock::select().order_by(PageBlock::KEY.desc()))
        .await
        .expect("first");
    assert_eq!(last.map(|b| b.key).as_deref(), Some("k3"));
    let none = objects
        .first::<PageBlock, _>(PageBlock::KEY.eq("nope"))
        .await
        .expect("first");
    assert!(none.is_none());
    let two = objects
        .peek(PageBlock::select().order_by(PageBlock::KEY.asc()), 2)
        .await
        .expect("peek");
    let keys: Vec<&str> = two.iter().map(|b| b.key.as_str()).collect();
    assert_eq!(keys, ["k1", "k2"]);
    let page = PageBlock::select().order_by(PageBlock::KEY).limit(2);
    assert_eq!(objects.count(page.clone()).await.expect("count"), 2);
    assert_eq!(objects.count_ignoring_limit(page).await.expect("count"), 3);
}

/// `is_connected` follows connect, a query and close; `scalar_map` reads several named
/// aggregates of the first row by name, and gives `None` for no row.
pub async fn connection_state_and_scalar_map<D: Db>(db: &D) {
    let objects = setup(db).await;
    assert!(objects.is_connected(), "set-up ran statements");
    objects.close().await;
    assert!(!objects.is_connected(), "closed");
    objects.connect().await.expect("connect");
    assert!(objects.is_connected(), "connected again");
    for (key, text) in [("a", "x"), ("b", "yy"), ("c", "zzz")] {
        objects
            .create(PageBlock::new(key, text))
            .await
            .expect("create");
    }
    let totals = objects
        .scalar_map(PageBlock::select().columns((
            count_all().named("blocks"),
            max(PageBlock::KEY).named("last_key"),
        )))
        .await
        .expect("scalar_map")
        .expect("an aggregate returns a row");
    assert_eq!(totals.get("blocks"), Some(&Value::I64(3)));
    assert_eq!(totals.get("last_key"), Some(&Value::Text("c".into())));
    let none = objects
        .scalar_map(
            PageBlock::select()
                .columns(PageBlock::KEY.named("key"))
                .where_(PageBlock::KEY.eq("nope")),
        )
        .await
        .expect("scalar_map of no row");
    assert_eq!(none, None);
    objects.close().await;
    assert!(!objects.is_connected(), "closed again");
}

/// Optimistic locking and timestamps: `create` sets both timestamps to one now and
/// stores what it returns; `update` bumps the version and `updated_at` in the row and in
/// the object; an update from a stale copy (or of a deleted row) is `StaleObject` and
/// writes nothing; of two racing updates from one read, exactly one wins.
pub async fn versions_and_timestamps<D: Db>(db: &D) {
    let objects = setup(db).await;
    Revision::create_table_async(db, true)
        .await
        .expect("create revision");
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(5);
    let mut mine = objects
        .create(Revision::new("draft"))
        .await
        .expect("create");
    assert_eq!(mine.version, 0);
    assert_eq!(mine.created_at, mine.updated_at.naive_utc(), "one now");
    assert!(mine.updated_at > before, "{:?}", mine.updated_at);
    let stored = |id: i64| {
        let objects = objects.clone();
        async move {
            objects
                .get::<Revision, _>(Revision::ID.eq(id))
                .await
                .expect("get")
        }
    };
    assert_eq!(stored(mine.id).await, mine, "the object is what was stored");

    let theirs = mine.clone();
    mine.body = "mine".into();
    assert_eq!(objects.update(&mut mine).await.expect("update"), 1);
    assert_eq!(mine.version, 1);
    assert!(mine.updated_at >= theirs.updated_at);
    assert_eq!(mine.created_at, theirs.created_at);
    assert_eq!(stored(mine.id).await, mine);

    let mut stale = theirs.clone();
    stale.body = "theirs".into();
    let lost = objects.update(&mut stale).await;
    assert!(
        matches!(
            lost,
            Err(Error::StaleObject {
                model: "Revision",
                version: 0
            })
        ),
        "{lost:?}"
    );
    assert_eq!(stale.version, 0, "a failed update leaves the version");
    let lost = objects.save(stale.clone()).await;
    assert!(matches!(lost, Err(Error::StaleObject { .. })), "{lost:?}");
    let lost = objects.update_only(&mut stale, Revision::BODY).await;
    assert!(matches!(lost, Err(Error::StaleObject { .. })), "{lost:?}");
    assert_eq!(stored(mine.id).await.body, "mine", "nothing written");

    mine.body = "only the body".into();
    objects
        .update_only(&mut mine, Revision::BODY)
        .await
        .expect("update only");
    assert_eq!(mine.version, 2);
    assert_eq!(stored(mine.id).await, mine);
    let saved = objects.save(mine.clone()).await.expect("save");
    assert_eq!(saved.version, 3);

    // Two writers from one read: one wins, the other is told.
    let (mut a, mut b) = (saved.clone(), saved.clone());
    a.body = "a".into();
    b.body = "b".into();
    let (ra, rb) = tokio::join!(objects.update(&mut a), objects.update(&mut b));
    let wins = [&ra, &rb].iter().filter(|r| matches!(r, Ok(1))).count();
    let stale = [&ra, &rb]
        .iter()
        .filter(|r| matches!(r, Err(Error::StaleObject { version: 3, .. })))
        .count();
    assert_eq!((wins, stale), (1, 1), "{ra:?} {rb:?}");
    let row = stored(saved.id).await;
    assert_eq!(row.version, 4);
    assert!(["a", "b"].contains(&row.body.as_str()));

    objects.delete(&row).await.expect("delete");
    let mut gone = row.clone();
    let lost = objects.update(&mut gone).await;
    assert!(
        matches!(lost, Err(Error::StaleObject { version: 4, .. })),
        "{lost:?}"
    );
}

/// Lifecycle hooks run in order around object writes and may change the object; their
/// writes through the executor commit with the write, and a hook's error undoes both.
pub async fn lifecycle_hooks<D: Db>(db: &D) {
    let objects = setup(db).await;
    AuditEntry::create_table_async(db, true)
        .await
        .expect("create audit_entry");
    Audited::create_table_async(db, true)
        .await
        .expect("create audited");
    let log = || {
        let objects = objects.clone();
        async move {
            let entries: Vec<String> = objects
                .execute(
                    AuditEntry::select()
                        .columns(AuditEntry::EVENT)
                        .order_by(AuditEntry::ID),
                )
                .await
                .expect("audit log");
            entries
        }
    };
    let mut ann = objects
        .create(Audited::new("  ann "))
        .await
        .expect("create");
    assert_eq!(ann.name, "ann", "before_save changed the object");
    let stored: Audited = objects.get(Audited::ID.eq(ann.id)).await.expect("get");
    assert_eq!(stored, ann);
    let insert_log = vec![
        "before insert ann".to_string(),
        format!("after insert ann #{}", ann.id),
    ];
    assert_eq!(log().await, insert_log);

    ann.name = "ann b".into();
    assert_eq!(objects.update(&mut ann).await.expect("update"), 1);
    let mut expected = insert_log.clone();
    expected.extend([
        "before update ann b".to_string(),
        format!("after update ann b #{}", ann.id),
    ]);
    assert_eq!(log().await, expected);

    let refused = objects.create(Audited::new("refuse")).await;
    assert!(matches!(refused, Err(Error::Query(_))), "{refused:?}");
    let failed = objects.create(Audited::new("fail-after")).await;
    assert!(matches!(failed, Err(Error::Query(_))), "{failed:?}");
    assert_eq!(
        objects.count(Audited::select()).await.expect("count"),
        1,
        "neither write stayed"
    );
    assert_eq!(log().await, expected, "nor any of their hooks' entries");

    let keep = objects
        .create(Audited::new("keep"))
        .await
        .expect("create keep");
    let kept = objects.delete(&keep).await;
    assert!(matches!(kept, Err(Error::Query(_))), "{kept:?}");
    assert_eq!(objects.count(Audited::select()).await.expect("count"), 2);
    assert_eq!(objects.delete(&ann).await.expect("delete"), 1);
    let events = log().await;
    assert_eq!(
        events[events.len() - 2..],
        [
            "before delete ann b".to_string(),
            "after delete ann b".to_string()
        ]
    );

    // Inside a transaction that rolls back, the hooks' writes go with it.
    let before = log().await.len();
    let rolled: Result<()> = objects
        .atomic(|tx| async move {
            tx.create(Audited::new("inside")).await?;
            Err(Error::Query("roll back".into()))
        })
        .await;
    assert!(rolled.is_err());
    assert_eq!(log().await.len(), before);
}

/// Soft delete: object and query deletes set the column, every query (joins and
/// prefetches too) leaves deleted rows out unless `with_deleted`, a recursive delete
/// soft-deletes the soft dependents and leaves the others, `hard()` removes for good and
/// `with_deleted` updates restore.
pub async fn soft_delete<D: Db>(db: &D) {
    let objects = setup(db).await;
    Topic::create_table_async(db, true)
        .await
        .expect("create topic");
    Answer::create_table_async(db, true)
        .await
        .expect("create answer");
    Vote::create_table_async(db, true)
        .await
        .expect("create vote");
    let mut topics = Vec::new();
    for title in ["t1", "t2", "t3"] {
        topics.push(objects.create(Topic::new(title)).await.expect("topic"));
    }
    let (t1, t2, t3) = (topics[0].clone(), topics[1].clone(), topics[2].clone());
    for (topic, body) in [(&t1, "a1"), (&t1, "a2"), (&t2, "a3")] {
        objects
            .create(Answer::new(topic.id, body))
            .await
            .expect("answer");
    }
    objects.create(Vote::new(t1.id)).await.expect("vote");
    let live = |q: Select<Topic, Topic>| {
        let objects = objects.clone();
        async move {
            let rows: Vec<Topic> = objects
                .execute(q.order_by(Topic::ID))
                .await
                .expect("topics");
            rows.into_iter().map(|t| t.title).collect::<Vec<_>>()
        }
    };

    let before = chrono::Utc::now().naive_utc() - chrono::TimeDelta::seconds(5);
    assert_eq!(objects.delete(&t3).await.expect("delete"), 1);
    assert_eq!(
        objects.delete(&t3).await.expect("again"),
        0,
        "already deleted"
    );
    assert_eq!(live(Topic::select()).await, ["t1", "t2"]);
    let gone = objects.get_or_none::<Topic, _>(Topic::ID.eq(t3.id)).await;
    assert_eq!(gone.expect("get_or_none"), None);
    let kept: Topic = objects
        .get(Topic::select().with_deleted().where_(Topic::ID.eq(t3.id)))
        .await
        .expect("still stored");
    assert!(kept.deleted_at.is_some_and(|at| at > before), "{kept:?}");
    assert_eq!(objects.count(Topic::select()).await.expect("count"), 2);

    // A query's DELETE is soft too; the rows that reference it are left.
    let deleted = objects
        .execute(Topic::delete().where_(Topic::TITLE.eq("t2")))
        .await
        .expect("query delete");
    assert_eq!(deleted, 1);
    let joined: Vec<(Answer, Topic)> = objects
        .execute(Answer::select().join::<Topic>().order_by(Answer::ID))
        .await
        .expect("join");
    let bodies: Vec<&str> = joined.iter().map(|(a, _)| a.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["a1", "a2"],
        "an answer to a deleted topic is not joined"
    );
    let mut t2_copy = t2.clone();
    t2_copy.title = "renamed".into();
    assert_eq!(
        objects.update(&mut t2_copy).await.expect("update"),
        0,
        "deleted rows stay"
    );

    // Recursively: the soft answers follow, the hard vote stays (its topic row stays).
    assert_eq!(
        objects
            .delete_recursive(&t1, orm_manager::OnNullable::Delete)
            .await
            .expect("recursive"),
        1
    );
    let answers: Vec<String> = objects
        .execute(Answer::select().columns(Answer::BODY).order_by(Answer::ID))
        .await
        .expect("answers");
    assert_eq!(answers, ["a3"]);
    assert_eq!(objects.count(Vote::select()).await.expect("votes"), 1);
    let all = objects
        .prefetch(
            Topic::select().with_deleted().order_by(Topic::ID),
            (Answer::select(),),
        )
        .await
        .expect("prefetch");
    let counts: Vec<usize> = all
        .rows()
        .iter()
        .map(|t| all.related::<Answer, Topic>(t).len())
        .collect();
    assert_eq!(counts, [0, 1, 0], "only live answers are prefetched");

    let restored = objects
        .execute(
            Topic::update()
                .set(Topic::DELETED_AT, None)
                .where_(Topic::ID.eq(t1.id))
                .with_deleted(),
        )
        .await
        .expect("restore");
    assert_eq!(restored, 1);
    assert_eq!(live(Topic::select()).await, ["t1"]);
    let removed = objects
        .execute(Topic::delete().hard().where_(Topic::ID.eq(t3.id)))
        .await
        .expect("hard delete");
    assert_eq!(removed, 1);
    assert_eq!(
        live(Topic::select().with_deleted()).await,
        ["t1", "t2"],
        "t3 is gone for good"
    );
}

/// A row named column by column: columns left out take their database defaults, the ORM
/// fills in its timestamps and version, and `create_from` returns the stored object.
pub async fn named_construction<D: Db>(db: &D) {
    let objects = setup(db).await;
    Revision::create_table_async(db, true)
        .await
        .expect("create revision");
    Draft::create_table_async(db, true)
        .await
        .expect("create draft");
    let draft = objects
        .create_from(Draft::values().set(Draft::TITLE, "Hello"))
        .await
        .expect("create_from");
    assert!(draft.id > 0);
    assert_eq!(draft.title, "Hello");
    assert_eq!(draft.status, "draft", "the database's default");
    assert_eq!(draft.priority, 3, "the database's default");
    assert_eq!(draft.note, None);
    let stored: Draft = objects.get(Draft::ID.eq(draft.id)).await.expect("get");
    assert_eq!(stored, draft);

    let chosen = objects
        .create_from(
            Draft::values()
                .set(Draft::STATUS, "final")
                .set(Draft::TITLE, "Chosen")
                .set(Draft::NOTE, Some("n".to_string())),
        )
        .await
        .expect("create_from");
    assert_eq!(
        (
            chosen.title.as_str(),
            chosen.status.as_str(),
            chosen.note.as_deref()
        ),
        ("Chosen", "final", Some("n"))
    );

    let revision = objects
        .create_from(Revision::values().set(Revision::BODY, "b"))
        .await
        .expect("maintained columns");
    assert_eq!(revision.version, 0);
    assert_eq!(revision.created_at, revision.updated_at.naive_utc());
    let missing = objects.create_from(Revision::values()).await;
    assert!(
        missing.is_err(),
        "a NOT NULL column without a default: {missing:?}"
    );
    assert_eq!(objects.count(Revision::select()).await.expect("count"), 1);
}

/// Conditions know their model: `get` infers the model from the condition (no
/// turbofish), a join lets WHERE name the joined model (by two `where_` calls or
/// `and_across`), a correlated subquery names the outer model with `outer`, and conditions
/// built in a loop keep one type. (What must not compile is in tests/ui.)
pub async fn conditions_know_their_model<D: Db>(db: &D) {
    let objects = setup(db).await;
    let ann = objects
        .create(User::new("ann", 30, None))
        .await
        .expect("ann");
    let bob = objects
        .create(User::new("bob", 40, None))
        .await
        .expect("bob");
    for (author, title, score) in [(&ann, "a1", 1.0), (&ann, "a2", 5.0), (&bob, "b1", 7.0)] {
        objects
            .create(Post::new(author.id, title, score))
            .await
            .expect("post");
    }
    let found = objects.get(User::NAME.eq("ann")).await.expect("get");
    assert_eq!(found.id, ann.id, "the model comes from the condition");
    let none = objects
        .get_or_none(User::NAME.eq("nobody") & User::AGE.gt(1))
        .await
        .expect("get_or_none");
    assert!(none.is_none());

    let joined = User::select()
        .join::<Post>()
        .where_(Post::SCORE.gt(2.0))
        .where_(User::NAME.eq("ann"))
        .columns(Post::TITLE);
    let titles: Vec<String> = objects.execute(joined).await.expect("two where_");
    assert_eq!(titles, ["a2"]);
    let across = User::select()
        .join::<Post>()
        .where_(Post::SCORE.gt(2.0).or_across(User::NAME.eq("ann")))
        .columns(Post::TITLE)
        .order_by(Post::TITLE);
    let titles: Vec<String> = objects.execute(across).await.expect("or_across");
    assert_eq!(titles, ["a1", "a2", "b1"]);

    let writes_big = Post::select()
        .outer::<User>()
        .where_(Post::AUTHOR_ID.eq(User::ID) & Post::SCORE.gt(6.0));
    let names: Vec<String> = objects
        .execute(
            User::select()
                .columns(User::NAME)
                .where_(exists(writes_big)),
        )
        .await
        .expect("correlated");
    assert_eq!(names, ["bob"]);

    let mut any_of = User::NAME.eq("nobody");
    for name in ["ann", "bob"] {
        any_of = any_of | User::NAME.eq(name);
    }
    assert_eq!(
        objects
            .count(User::select().where_(any_of))
            .await
            .expect("count"),
        2
    );
}

/// `test_transaction` rolls back whatever its body does, on success, failure or panic;
/// calls through the original Manager on the task see the body's rows meanwhile.
pub async fn test_transaction_leaves_nothing<D: Db>(db: &D) {
    let objects = setup(db).await;
    let outer = objects.clone();
    let seen = objects
        .test_transaction(|tx| async move {
            tx.create(PageBlock::new("scratch", "")).await?;
            let through_tx = tx.count(PageBlock::select()).await?;
            let through_outer = outer.count(PageBlock::select()).await?;
            Ok::<_, Error>((through_tx, through_outer))
        })
        .await
        .expect("test transaction");
    assert_eq!(seen, (1, 1), "the body and the task's Manager see the row");
    let failed: Result<()> = objects
        .test_transaction(|tx| async move {
            tx.create(PageBlock::new("failed", "")).await?;
            Err(Error::Query("the test failed".into()))
        })
        .await;
    assert!(matches!(failed, Err(Error::Query(_))));
    let inner = objects.clone();
    let panicked = tokio::spawn(async move {
        inner
            .test_transaction(|tx| async move {
                tx.create(PageBlock::new("panicked", "")).await?;
                panic!("an assertion failed");
                #[allow(unreachable_code)]
                Ok::<(), Error>(())
            })
            .await
    })
    .await;
    assert!(panicked.is_err(), "the panic goes on to the test");
    assert_eq!(
        objects.count(PageBlock::select()).await.expect("count"),
        0,
        "nothing is left"
    );
    assert_eq!(
        db.busy_sessions().await,
        0,
        "no session left in a transaction"
    );
}

/// create / get / update / delete / execute / count / scalar / stream.
pub async fn crud<D: Db>(db: &D) {
    let objects = setup(db).await;
    let title = objects
        .create(PageBlock::new("title", "Peewee is AWESOME with async!"))
        .await
        .expect("create");
    assert!(title.id > 0, "the generated key is filled in");
    let by_condition: PageBlock = objects
        .get(PageBlock::KEY.eq("title"))
        .await
        .expect("get by condition");
    let by_query = objects
        .get(PageBlock::select().where_(PageBlock::ID.eq(title.id)))
        .await
        .expect("get by query");
    assert_eq!(by_condition, title);
    assert_eq!(by_query, title);
    let missing = objects.get::<PageBlock, _>(PageBlock::KEY.eq("nope")).await;
    match missing {
        Err(e @ Error::DoesNotExist { model: "PageBlock" }) => {
            assert!(e.to_string().contains("PageBlock"))
        }
        other => panic!("expected DoesNotExist, got {other:?}"),
    }
    assert_eq!(
        objects
            .get_or_none::<PageBlock, _>(PageBlock::KEY.eq("nope"))
            .await
            .expect("or none"),
        None
    );

    let mut changed = title.clone();
    changed.text = "Peewee is SUPER awesome with async!".into();
    assert_eq!(objects.update(&mut changed).await.expect("update"), 1);
    changed.key = "renamed".into();
    changed.text = "not saved".into();
    assert_eq!(
        objects
            .update_only(&mut changed, PageBlock::KEY)
            .await
            .expect("update only"),
        1
    );
    let stored: PageBlock = objects.get(PageBlock::ID.eq(title.id)).await.expect("get");
    assert_eq!(
        (stored.key.as_str(), stored.text.as_str()),
        ("renamed", "Peewee is SUPER awesome with async!")
    );

    objects
        .create(PageBlock::new("other", "x"))
        .await
        .expect("create");
    let many = objects.get::<PageBlock, _>(PageBlock::select()).await;
    assert!(
        matches!(many, Err(Error::MultipleRows { model: "PageBlock" })),
        "{many:?}"
    );

    let keys_inserted = objects
        .execute(PageBlock::insert_many(&[
            PageBlock::new("a", ""),
            PageBlock::new("b", ""),
        ]))
        .await
        .expect("insert");
    assert_eq!(keys_inserted.len(), 2);
    // Increasing, not necessarily by one (a Galera node's keys step by the cluster size).
    assert!(keys_inserted[1] > keys_inserted[0], "{keys_inserted:?}");
    for (key, id) in ["a", "b"].iter().zip(&keys_inserted) {
        let row: PageBlock = objects.get(PageBlock::ID.eq(*id)).await.expect("by key");
        assert_eq!(row.key, *key, "each key given back is its row's");
    }
    let updated = objects
        .execute(
            PageBlock::update()
                .set(PageBlock::TEXT, "t")
                .where_(PageBlock::KEY.is_in(["a", "b"])),
        )
        .await
        .expect("update");
    assert_eq!(updated, 2);
    assert_eq!(
        objects
            .count_ignoring_limit(PageBlock::select().limit(1))
            .await
            .expect("count"),
        4
    );
    assert_eq!(
        objects
            .count(PageBlock::select().limit(1))
            .await
            .expect("count limited"),
        1
    );
    let max_id = objects
        .scalar(PageBlock::select().columns(max(PageBlock::ID)))
        .await
        .expect("scalar");
    assert_eq!(max_id, Some(Some(keys_inserted[1])));
    let pair = objects
        .scalar(PageBlock::select().columns((count_all(), min(PageBlock::ID))))
        .await
        .expect("tuple");
    assert_eq!(pair, Some((4, Some(title.id))));
    let streamed: Vec<PageBlock> = objects
        .stream(&PageBlock::select().order_by(PageBlock::ID))
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(streamed.len(), 4);
    assert_eq!(objects.delete(&stored).await.expect("delete"), 1);
    assert_eq!(
        objects
            .execute(PageBlock::delete().where_(PageBlock::KEY.eq("a")))
            .await
            .expect("delete"),
        1
    );
    assert_eq!(keys(&objects).await, ["b", "other"]);
}

/// get_or_create and create_or_get, plainly.
pub async fn get_or_create_basics<D: Db>(db: &D) {
    let objects = setup(db).await;
    let (first, created) = objects
        .get_or_create(PageBlock::KEY.eq("k"), PageBlock::new("k", "one"))
        .await
        .expect("create");
    assert!(created);
    let (again, created) = objects
        .get_or_create(PageBlock::KEY.eq("k"), PageBlock::new("k", "two"))
        .await
        .expect("get");
    assert!(!created);
    assert_eq!(again, first);
    let (made, created) = objects
        .create_or_get(PageBlock::new("c", "new"))
        .await
        .expect("create_or_get");
    assert!(created && made.id > 0);
    let (existing, created) = objects
        .create_or_get(PageBlock::new("c", "ignored"))
        .await
        .expect("create_or_get existing");
    assert!(!created);
    assert_eq!(existing, made);
}

/// 64 tasks race on each of several keys: one row and one `created` per key, every
/// caller holds that row, no error.
pub async fn get_or_create_race<D: Db>(db: &D) {
    let objects = setup(db).await;
    const KEYS: usize = 6;
    const TASKS: usize = 64;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        for k in 0..KEYS {
            let objects = objects.clone();
            handles.push(tokio::spawn(async move {
                let key = format!("key{k}");
                let defaults = PageBlock::new(key.clone(), format!("by task {t}"));
                if t % 2 == 0 {
                    objects
                        .get_or_create(PageBlock::KEY.eq(key.as_str()), defaults)
                        .await
                        .map(|r| (k, r))
                } else {
                    objects.create_or_get(defaults).await.map(|r| (k, r))
                }
            }));
        }
    }
    let mut created = [0usize; KEYS];
    let mut ids: Vec<Option<i64>> = vec![None; KEYS];
    for h in handles {
        let (k, (row, was_created)) = h.await.expect("task").expect("no error reaches a caller");
        created[k] += usize::from(was_created);
        assert_eq!(
            *ids[k].get_or_insert(row.id),
            row.id,
            "every caller holds the same row"
        );
    }
    assert_eq!(created, [1; KEYS], "exactly one caller created each key");
    assert_eq!(
        objects
            .count_ignoring_limit(PageBlock::select())
            .await
            .expect("count"),
        KEYS as i64
    );
}

/// The service workload that deadlocked: 64 concurrent transactions each create a page
/// block, `get_or_create` four of eight tags (overlapping sets, in orders of their own)
/// and link each tag by foreign key. No transaction fails (no deadlock, no error), each
/// tag is stored once and exactly one caller saw it created.
pub async fn tagging_in_concurrent_transactions<D: Db>(db: &D) {
    const TASKS: usize = 64;
    const TAGS: usize = 8;
    let objects = setup(db).await;
    Tag::create_table_async(db, true).await.expect("create tag");
    BlockTag::create_table_async(db, true)
        .await
        .expect("create block_tag");
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let objects = objects.clone();
        handles.push(tokio::spawn(async move {
            // Four consecutive tags starting at t, walked forwards or backwards.
            let mut names: Vec<String> = (0..4).map(|i| format!("tag{}", (t + i) % TAGS)).collect();
            if t % 2 == 1 {
                names.reverse();
            }
            objects
                .atomic(|tx| async move {
                    let block = tx.create(PageBlock::new(format!("post{t}"), "")).await?;
                    let mut created = Vec::new();
                    for name in names {
                        let (tag, was_created) = tx
                            .get_or_create(Tag::NAME.eq(name.as_str()), Tag::new(name.clone()))
                            .await?;
                        if was_created {
                            created.push(name);
                        }
                        tx.create(BlockTag::new(block.id, tag.id)).await?;
                    }
                    Ok::<_, Error>(created)
                })
                .await
        }));
    }
    let (mut failures, mut deadlocks) = (Vec::new(), 0);
    let mut created = std::collections::BTreeMap::<String, usize>::new();
    for h in handles {
        match h.await.expect("task") {
            Ok(names) => names
                .into_iter()
                .for_each(|n| *created.entry(n).or_default() += 1),
            Err(e) => {
                deadlocks += usize::from(e.is_retryable());
                failures.push(e.to_string());
            }
        }
    }
    eprintln!(
        "tagging_in_concurrent_transactions: {TASKS} transactions, {} failed, {deadlocks} deadlocks",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{deadlocks} deadlocks; failures: {failures:?}"
    );
    assert_eq!(created.len(), TAGS, "every tag was created: {created:?}");
    assert!(
        created.values().all(|n| *n == 1),
        "created once each: {created:?}"
    );
    assert_eq!(
        objects
            .count_ignoring_limit(Tag::select())
            .await
            .expect("tags"),
        TAGS as i64
    );
    assert_eq!(
        objects
            .count_ignoring_limit(BlockTag::select())
            .await
            .expect("links"),
        (TASKS * 4) as i64
    );
}

/// Inside a transaction (PostgreSQL, MySQL), `get_or_create` finds a row another
/// connection committed after the transaction's first read (a repeatable-read snapshot
/// does not hide it), and a row it creates is committed at once: it stays when the
/// transaction rolls back. SQLite, one writer at a time, creates inside the transaction.
pub async fn get_or_create_inside_transactions<D: Db>(db: &D) {
    let objects = setup(db).await;
    Tag::create_table_async(db, true).await.expect("create tag");
    let side = db.autonomous();
    let autonomous = side.is_some();
    let tx = objects.begin_atomic().await.expect("begin");
    assert_eq!(
        tx.count_ignoring_limit(Tag::select())
            .await
            .expect("snapshot"),
        0
    );
    if let Some(side) = side {
        // Another connection (a single database's own is held by the transaction).
        let late = Manager::new(side)
            .create(Tag::new("late"))
            .await
            .expect("committed outside");
        let (found, created) = tx
            .get_or_create(Tag::NAME.eq("late"), Tag::new("late"))
            .await
            .expect("found");
        assert_eq!((found, created), (late, false));
    }
    let (made, created) = tx
        .get_or_create(Tag::NAME.eq("made"), Tag::new("made"))
        .await
        .expect("made");
    assert!(created && made.id > 0, "{made:?}");
    let (again, created) = tx
        .get_or_create(Tag::NAME.eq("made"), Tag::new("made"))
        .await
        .expect("again");
    assert_eq!((again, created), (made.clone(), false));
    tx.rollback().await.expect("rollback");
    let kept = objects
        .get_or_none::<Tag, _>(Tag::NAME.eq("made"))
        .await
        .expect("read");
    assert_eq!(
        kept.is_some(),
        autonomous,
        "a created row is committed at once where creation is autonomous"
    );
}

/// The seed's example: an error inside atomic leaves 'FOO' and not 'BAR'.
pub async fn atomic_commits_and_rolls_back<D: Db>(db: &D) {
    let objects = setup(db).await;
    objects
        .create(PageBlock::new("FOO", ""))
        .await
        .expect("FOO");
    #[derive(Debug, PartialEq)]
    enum AppError {
        Db(String),
        Oops,
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Db(e.to_string())
        }
    }
    let result: std::result::Result<(), AppError> = objects
        .atomic(|tx| async move {
            tx.create(PageBlock::new("BAR", "")).await?;
            Err(AppError::Oops)
        })
        .await;
    assert_eq!(
        result,
        Err(AppError::Oops),
        "the body's own error comes back unchanged"
    );
    assert_eq!(keys(&objects).await, ["FOO"]);

    let value = objects
        .atomic(|tx| async move {
            tx.create(PageBlock::new(
                "intro",
                "There are more things in heaven and earth...",
            ))
            .await?;
            tx.create(PageBlock::new("signature", "William Shakespeare"))
                .await?;
            Ok::<_, Error>(7)
        })
        .await
        .expect("commit");
    assert_eq!(value, 7);
    assert_eq!(keys(&objects).await, ["FOO", "intro", "signature"]);

    // A panic inside the scope rolls back, then goes on unwinding.
    let outer = objects.clone();
    let panicked = tokio::spawn(async move {
        outer
            .atomic(|tx| async move {
                tx.create(PageBlock::new("PANIC", "")).await?;
                if tx.in_transaction_now() {
                    panic!("boom");
                }
                Ok::<_, Error>(())
            })
            .await
    })
    .await;
    assert!(panicked.is_err_and(|e| e.is_panic()));
    assert_eq!(keys(&objects).await, ["FOO", "intro", "signature"]);
}

/// Nested atomic scopes are savepoints that roll back only themselves; transaction()
/// does not nest; savepoint() needs a transaction.
pub async fn nested_scopes<D: Db>(db: &D) {
    let objects = setup(db).await;
    objects
        .atomic(|tx| async move {
            tx.create(PageBlock::new("outer", "")).await?;
            let inner: std::result::Result<(), Error> = tx
                .atomic(|sp| async move {
                    sp.create(PageBlock::new("inner-fails", "")).await?;
                    Err(Error::Query("inner failure".into()))
                })
                .await;
            assert!(inner.is_err());
            tx.atomic(|sp| async move {
                sp.create(PageBlock::new("sibling-ok", "")).await?;
                sp.atomic(|deep| async move {
                    deep.create(PageBlock::new("deep-fails", "")).await?;
                    Err::<(), _>(Error::Query("deep failure".into()))
                })
                .await
                .expect_err("deep fails");
                sp.savepoint(|deep| async move {
                    deep.create(PageBlock::new("deep-ok", "")).await.map(drop)
                })
                .await
            })
            .await?;
            let nested = tx.transaction(|_| async { Ok::<_, Error>(()) }).await;
            assert!(matches!(nested, Err(Error::Transaction(_))), "{nested:?}");
            Ok::<_, Error>(())
        })
        .await
        .expect("outer commits");
    assert_eq!(keys(&objects).await, ["deep-ok", "outer", "sibling-ok"]);
    let outside = objects.savepoint(|_| async { Ok::<_, Error>(()) }).await;
    assert!(matches!(outside, Err(Error::Transaction(_))));
}

/// Guards: explicit commit and rollback; dropped, they roll back.
pub async fn guards<D: Db>(db: &D) {
    let objects = setup(db).await;
    let tx = objects.begin_transaction().await.expect("begin");
    tx.create(PageBlock::new("committed", ""))
        .await
        .expect("create");
    let sp = tx.begin_savepoint().await.expect("savepoint");
    sp.create(PageBlock::new("sp-rolled-back", ""))
        .await
        .expect("create");
    sp.rollback().await.expect("rollback savepoint");
    let sp = tx
        .begin_atomic()
        .await
        .expect("atomic in tx is a savepoint");
    assert!(sp.is_savepoint());
    sp.create(PageBlock::new("sp-dropped", ""))
        .await
        .expect("create");
    drop(sp);
    tx.create(PageBlock::new("after-drop", ""))
        .await
        .expect("the queued rollback ran first");
    tx.commit().await.expect("commit");
    assert_eq!(keys(&objects).await, ["after-drop", "committed"]);

    let tx = objects.begin_atomic().await.expect("begin");
    tx.create(PageBlock::new("rolled-back", ""))
        .await
        .expect("create");
    tx.rollback().await.expect("rollback");
    let tx = objects.begin_transaction().await.expect("begin");
    tx.create(PageBlock::new("dropped", ""))
        .await
        .expect("create");
    drop(tx);
    assert_eq!(keys(&objects).await, ["after-drop", "committed"]);
}

/// Manager calls inside a scope join its transaction through the task; a spawned task
/// runs outside it and does not see its uncommitted rows.
pub async fn scope_follows_the_task<D: Db>(db: &D) {
    let objects = setup(db).await;
    let outer = objects.clone();
    let waited = Arc::new(std::sync::Mutex::new(None));
    let parked = waited.clone();
    objects
        .atomic(|_tx| async move {
            let waited = parked;
            // The outer Manager, not the handle: it joins the transaction all the same.
            outer.create(PageBlock::new("joined", "")).await?;
            assert!(outer.in_transaction_now());
            let seen = outer.count_ignoring_limit(PageBlock::select()).await?;
            assert_eq!(seen, 1);
            let mut spawned = tokio::spawn({
                let outer = outer.clone();
                async move {
                    (
                        outer.in_transaction_now(),
                        outer.count_ignoring_limit(PageBlock::select()).await,
                    )
                }
            });
            // On a pool the spawned task runs now and sees nothing uncommitted; on a single
            // connection it waits until the transaction ends.
            if let Ok(done) = tokio::time::timeout(Duration::from_secs(2), &mut spawned).await {
                let (inside, count) = done.expect("task");
                assert!(!inside);
                assert_eq!(
                    count.expect("count outside"),
                    0,
                    "uncommitted rows are invisible outside"
                );
            } else {
                *waited.lock().expect("lock") = Some(spawned);
            }
            Ok::<_, Error>(())
        })
        .await
        .expect("commit");
    let parked = waited.lock().expect("lock").take();
    if let Some(task) = parked {
        let (inside, count) = task.await.expect("task");
        assert!(!inside);
        assert_eq!(
            count.expect("count after commit"),
            1,
            "it ran after the commit"
        );
    }
    assert_eq!(keys(&objects).await, ["joined"]);
}

/// With one connection, Manager calls inside a scope reuse the scope's connection (run it
/// on a pool of size 1).
pub async fn nested_acquire_with_one_connection<D: Db>(db: &D) {
    let objects = setup(db).await;
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        objects.atomic(|tx| {
            let objects = objects.clone();
            async move {
                tx.create(PageBlock::new("a", "")).await?;
                objects.create(PageBlock::new("b", "")).await?;
                objects
                    .atomic(|sp| async move { sp.create(PageBlock::new("c", "")).await.map(drop) })
                    .await?;
                objects.count_ignoring_limit(PageBlock::select()).await
            }
        }),
    )
    .await
    .expect("no deadlock");
    assert_eq!(result.expect("commit"), 3);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

/// Two transactions do not see each other's uncommitted rows.
pub async fn isolation<D: Db>(db: &D) {
    let objects = setup(db).await;
    let a = objects.begin_transaction().await.expect("a");
    a.create(PageBlock::new("from-a", ""))
        .await
        .expect("insert a");
    let b_sees = {
        let objects = objects.clone();
        tokio::spawn(async move {
            let saw_a = objects
                .atomic(|b| async move {
                    b.create(PageBlock::new("from-b", "")).await?;
                    b.count_ignoring_limit(PageBlock::select().where_(PageBlock::KEY.eq("from-a")))
                        .await
                })
                .await?;
            // Read outside A, in B's task (a replica pair's reads wait for what the
            // task wrote): inside a transaction, a Galera node need not have applied
            // what another node committed yet, so A itself may not see B's row.
            let b_stored = objects
                .count_ignoring_limit(PageBlock::select().where_(PageBlock::KEY.eq("from-b")))
                .await?;
            Ok::<_, Error>((saw_a, b_stored))
        })
    };
    // A single-connection database serialises transactions, and SQLite its writers: B
    // waits for A to finish. The wait here ends before SQLite's busy timeout (5 s), which
    // would otherwise end B's first.
    let b_sees = tokio::time::timeout(Duration::from_secs(3), b_sees).await;
    match b_sees {
        Ok(result) => assert_eq!(
            result.expect("task").expect("b"),
            (0, 1),
            "B does not see A's uncommitted row, and commits its own"
        ),
        Err(_) => {
            a.rollback().await.expect("rollback a");
            return;
        }
    }
    a.commit().await.expect("commit a");
    assert_eq!(
        objects
            .count_ignoring_limit(
                PageBlock::select().where_(PageBlock::KEY.is_in(["from-a", "from-b"]))
            )
            .await
            .expect("read both"),
        2,
        "A and B both committed"
    );
}

/// Transactions cancelled at random points never leave partial work or a dirty
/// connection behind.
pub async fn cancellation<D: Db>(db: &D) {
    let objects = setup(db).await;
    let iterations: u64 = std::env::var("ORM_CANCEL_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut cut = 0;
    for i in 0..iterations {
        let delay = Duration::from_micros(next() % 4000);
        let work = objects.atomic(move |tx| async move {
            tx.create(PageBlock::new(format!("a{i}"), "")).await?;
            tokio::task::yield_now().await;
            tx.create(PageBlock::new(format!("b{i}"), "")).await?;
            Ok::<_, Error>(())
        });
        match next() % 4 {
            // Every fourth kind of cut, and the first iteration always, drops the scope
            // after a few polls: its body yields between its statements, so one poll
            // never finishes it and the check's premise holds by construction.
            _ if i == 0 => cut += usize::from(cut_after(1, work).await.is_none()),
            3 => cut += usize::from(cut_after(1 + (next() % 6) as usize, work).await.is_none()),
            0 => cut += usize::from(tokio::time::timeout(delay, work).await.is_err()),
            1 => {
                let objects = objects.clone();
                let task = tokio::spawn(async move {
                    objects
                        .atomic(move |tx| async move {
                            tx.create(PageBlock::new(format!("a{i}"), "")).await?;
                            tx.create(PageBlock::new(format!("b{i}"), "")).await?;
                            Ok::<_, Error>(())
                        })
                        .await
                });
                tokio::time::sleep(delay).await;
                task.abort();
                cut += usize::from(task.await.is_err());
            }
            _ => {
                tokio::select! {
                    r = work => { r.expect("transaction"); }
                    _ = tokio::time::sleep(delay) => { cut += 1; }
                }
            }
        }
        // The next user sees no transaction left open: its own rollback affects nothing.
        let n = objects
            .count_ignoring_limit(PageBlock::select())
            .await
            .expect("next user");
        assert_eq!(n % 2, 0, "no partial transaction after iteration {i}");
    }
    let rows = keys(&objects).await;
    for row in rows.iter().filter(|k| k.starts_with('a')) {
        assert!(
            rows.contains(&format!("b{}", &row[1..])),
            "{row} committed without its pair"
        );
    }
    assert!(cut > 0, "some transactions were cancelled");
    assert_eq!(
        db.busy_sessions().await,
        0,
        "no session left in a transaction after {iterations} runs, {cut} cut"
    );
    objects
        .create(PageBlock::new("after", ""))
        .await
        .expect("the database serves new work");
}

/// The operations and scope shapes the cut-at-every-poll check drops at each await point.
/// The `Inner*` shapes cut only a savepoint or a statement inside a transaction whose
/// body then goes on and commits: what the cut left behind must not reach that COMMIT.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Create,
    AtomicCommits,
    AtomicFails,
    NestedCommits,
    NestedFails,
    GuardedSavepointRollsBack,
    GetOrCreate,
    BulkInsert,
    StreamInAtomic,
    GetOrCreateInAtomic,
    InnerSavepointFails,
    InnerSavepointCommits,
    InnerStatement,
    InnerLimitedStatement,
    RetriedTransaction,
    HookedCreate,
}

const SHAPES: [Shape; 16] = [
    Shape::Create,
    Shape::AtomicCommits,
    Shape::AtomicFails,
    Shape::NestedCommits,
    Shape::NestedFails,
    Shape::GuardedSavepointRollsBack,
    Shape::GetOrCreate,
    Shape::BulkInsert,
    Shape::StreamInAtomic,
    Shape::GetOrCreateInAtomic,
    Shape::InnerSavepointFails,
    Shape::InnerSavepointCommits,
    Shape::InnerStatement,
    Shape::InnerLimitedStatement,
    Shape::RetriedTransaction,
    Shape::HookedCreate,
];

/// The session's statement and lock time limits, as text (SQLite has none to leave).
async fn limit_settings<E: Executor>(exec: &E) -> Result<String> {
    let sql = match exec.dialect().name() {
        "postgres" => {
            "SELECT current_setting('statement_timeout') || '/' || current_setting('lock_timeout')"
        }
        "mysql" => "SELECT CONCAT(@@max_statement_time, '/', @@innodb_lock_wait_timeout)",
        _ => "SELECT 'none'",
    };
    raw_query::<String>(sql, vec![]).fetch_one(exec).await
}

fn body_failed() -> Error {
    Error::Query("the scope's body failed".into())
}

/// Cuts `inner` after `polls` polls, noting in `flag` that it was cut.
async fn cut_inside<F: Future>(
    polls: usize,
    flag: &std::sync::atomic::AtomicBool,
    inner: F,
) -> Option<F::Output> {
    let output = cut_after(polls, inner).await;
    if output.is_none() {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    output
}

/// One attempt: whether the cut landed inside the operation, and the operation's result
/// if it ran to its end.
struct Attempt {
    cut: bool,
    result: Option<Result<()>>,
}

impl Shape {
    /// Runs the operation, writing rows whose keys start with `tag`, cut after `polls`.
    async fn attempt<D: Db>(self, objects: &Manager<D>, tag: &str, polls: usize) -> Attempt {
        let row = |suffix: &str| PageBlock::new(format!("{tag}{suffix}"), "");
        let (a, b, c) = (row("a"), row("b"), row("c"));
        let inner_cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = inner_cut.clone();
        let outer = match self {
            Shape::InnerSavepointFails => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        let inner = tx.atomic(|sp| async move {
                            sp.create(b).await?;
                            Err::<(), _>(body_failed())
                        });
                        if let Some(result) = cut_inside(polls, &flag, inner).await {
                            assert!(matches!(result, Err(Error::Query(_))), "{result:?}");
                        }
                        tx.create(c).await.map(drop)
                    })
                    .await
            }
            Shape::InnerSavepointCommits => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        let inner = tx.atomic(|sp| async move { sp.create(b).await.map(drop) });
                        if let Some(result) = cut_inside(polls, &flag, inner).await {
                            result?;
                        }
                        tx.create(c).await.map(drop)
                    })
                    .await
            }
            Shape::InnerStatement => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        let inner = tx.create(b);
                        if let Some(result) = cut_inside(polls, &flag, inner).await {
                            let result = result.map(drop);
                            result?;
                        }
                        tx.create(c).await.map(drop)
                    })
                    .await
            }
            Shape::InnerLimitedStatement => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        let before = limit_settings(&tx).await?;
                        let inner = tx.execute(b.insert().timeout(Duration::from_secs(30)));
                        if let Some(result) = cut_inside(polls, &flag, inner).await {
                            result?;
                        }
                        let after = limit_settings(&tx).await?;
                        assert_eq!(before, after, "a statement's own limits outlived it");
                        tx.create(c).await.map(drop)
                    })
                    .await
            }
            _ => {
                return match cut_after(polls, self.run(objects, tag, a, b, c)).await {
                    Some(result) => Attempt {
                        cut: false,
                        result: Some(result),
                    },
                    None => Attempt {
                        cut: true,
                        result: None,
                    },
                }
            }
        };
        Attempt {
            cut: inner_cut.load(std::sync::atomic::Ordering::SeqCst),
            result: Some(outer),
        }
    }

    async fn run<D: Db>(
        self,
        objects: &Manager<D>,
        tag: &str,
        a: PageBlock,
        b: PageBlock,
        c: PageBlock,
    ) -> Result<()> {
        match self {
            Shape::Create => objects.create(a).await.map(drop),
            // The insert and its hook's insert, in one transaction.
            Shape::HookedCreate => objects.create(HookedBlock::new(a.key, "")).await.map(drop),
            Shape::AtomicCommits => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        // A cut point between statements, with none in flight.
                        tokio::task::yield_now().await;
                        tx.create(b).await.map(drop)
                    })
                    .await
            }
            Shape::RetriedTransaction => {
                let policy = orm_manager::RetryPolicy::default();
                objects
                    .transaction_with_retry(TxOptions::new(), &policy, move |tx| {
                        let (a, b) = (a.clone(), b.clone());
                        async move {
                            tx.create(a).await?;
                            tokio::task::yield_now().await;
                            tx.create(b).await.map(drop)
                        }
                    })
                    .await
            }
            Shape::AtomicFails => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        Err::<(), _>(body_failed())
                    })
                    .await
            }
            Shape::NestedCommits => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        tx.atomic(|sp| async move {
                            sp.create(b).await?;
                            tokio::task::yield_now().await;
                            Ok::<_, Error>(())
                        })
                        .await?;
                        tx.create(c).await.map(drop)
                    })
                    .await
            }
            Shape::NestedFails => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        let inner = tx
                            .atomic(|sp| async move {
                                sp.create(b).await?;
                                Err::<(), _>(body_failed())
                            })
                            .await;
                        assert!(matches!(inner, Err(Error::Query(_))), "{inner:?}");
                        tx.create(c).await.map(drop)
                    })
                    .await
            }
            Shape::GuardedSavepointRollsBack => {
                let tx = objects.begin_atomic().await?;
                tx.create(a).await?;
                let sp = tx.begin_atomic().await?;
                sp.create(b).await?;
                sp.rollback().await?;
                tx.create(c).await?;
                tx.commit().await
            }
            Shape::GetOrCreate => {
                let key = a.key.clone();
                let (got, created) = objects.get_or_create(PageBlock::KEY.eq(key), a).await?;
                assert!(created && got.id > 0, "{got:?}");
                Ok(())
            }
            Shape::BulkInsert => objects.bulk_insert(&[a, b, c]).await.map(drop),
            Shape::StreamInAtomic => {
                let prefix = tag.to_owned();
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        let query = PageBlock::select().where_(PageBlock::KEY.startswith(&prefix));
                        let seen: Vec<PageBlock> = tx.stream(&query).try_collect().await?;
                        assert_eq!(seen.len(), 1, "the stream sees the scope's own row");
                        tx.create(b).await.map(drop)
                    })
                    .await
            }
            Shape::GetOrCreateInAtomic => {
                objects
                    .atomic(|tx| async move {
                        tx.create(a).await?;
                        let key = b.key.clone();
                        tx.get_or_create(PageBlock::KEY.eq(key), b).await?;
                        tx.create(c).await.map(drop)
                    })
                    .await
            }
            Shape::InnerSavepointFails
            | Shape::InnerSavepointCommits
            | Shape::InnerStatement
            | Shape::InnerLimitedStatement => unreachable!("attempt() runs the inner shapes"),
        }
    }

    /// The key suffixes stored when nothing was cut.
    fn completed(self) -> &'static [&'static str] {
        match self {
            Shape::Create | Shape::GetOrCreate => &["a"],
            Shape::AtomicCommits
            | Shape::StreamInAtomic
            | Shape::RetriedTransaction
            | Shape::HookedCreate => &["a", "b"],
            Shape::AtomicFails => &[],
            Shape::NestedCommits
            | Shape::BulkInsert
            | Shape::GetOrCreateInAtomic
            | Shape::InnerSavepointCommits
            | Shape::InnerStatement
            | Shape::InnerLimitedStatement => &["a", "b", "c"],
            Shape::NestedFails | Shape::GuardedSavepointRollsBack | Shape::InnerSavepointFails => {
                &["a", "c"]
            }
        }
    }

    /// What may be stored after a cut that left the operation `Ok` (if it ran to its
    /// end) besides nothing at all.
    fn allowed_after_cut(self) -> &'static [&'static [&'static str]] {
        match self {
            // The failed savepoint's row never survives.
            Shape::InnerSavepointFails => &[&["a", "c"]],
            // Cut before or after the savepoint / statement reached the server.
            Shape::InnerSavepointCommits | Shape::InnerStatement | Shape::InnerLimitedStatement => {
                &[&["a", "c"], &["a", "b", "c"]]
            }
            // The whole operation was dropped: all of it (COMMIT had reached the server).
            _ => &[],
        }
    }

    /// Besides all or nothing, what a cut of the whole operation may leave: a row
    /// `get_or_create` created inside a transaction is committed at once on the database's
    /// autonomous side (PostgreSQL, MySQL), whatever becomes of the transaction.
    fn committed_on_the_side(self) -> &'static [&'static str] {
        match self {
            Shape::GetOrCreateInAtomic => &["b"],
            _ => &[],
        }
    }

    fn succeeds(self) -> bool {
        !matches!(self, Shape::AtomicFails)
    }
}

/// Every operation and scope shape, dropped after exactly N polls for N = 1, 2, ... until
/// it completes, on fresh connections (closed before each attempt: connect and prepare
/// are cut too) and on warm ones. After each cut the database holds all of the
/// operation's effects or none (a failed savepoint's rows never), an operation that
/// reports an error left nothing, no session is left in a transaction, and the next
/// operation answers right. Returns the number of cuts made.
pub async fn cut_at_every_poll<D: Db>(db: &D) -> usize {
    let objects = setup(db).await;
    let mut cuts = 0;
    let mut whole_cuts = Vec::new();
    for fresh in [true, false] {
        for (s, shape) in SHAPES.into_iter().enumerate() {
            for polls in 1.. {
                assert!(polls < 5_000, "{shape:?} never completed");
                let tag = format!("{}{s}-{polls}-", if fresh { 'f' } else { 'w' });
                if fresh {
                    objects.close().await;
                }
                let attempt = shape.attempt(&objects, &tag, polls).await;
                let context = format!(
                    "{} {shape:?}, fresh {fresh}, cut after {polls} polls",
                    Executor::dialect(db).name()
                );
                assert_eq!(
                    db.busy_sessions().await,
                    0,
                    "{context}: a session is left in a transaction or running"
                );
                let stored = tagged_keys(&objects, &tag).await;
                let suffixes = |set: &[&str]| -> Vec<String> {
                    set.iter().map(|suffix| format!("{tag}{suffix}")).collect()
                };
                let completed = suffixes(shape.completed());
                let side = suffixes(shape.committed_on_the_side());
                let whole_cut_left = |stored: &Vec<String>| {
                    stored.is_empty()
                        || *stored == completed
                        || (!side.is_empty() && *stored == side)
                };
                if attempt.result.is_none() {
                    // A statement cut outside a transaction may still land a moment later
                    // (its bytes were on their way): checked again at the end.
                    whole_cuts.push((
                        tag.clone(),
                        completed.clone(),
                        side.clone(),
                        context.clone(),
                    ));
                }
                match (&attempt.result, attempt.cut) {
                    (Some(result), false) => {
                        assert_eq!(result.is_ok(), shape.succeeds(), "{context}: {result:?}");
                        assert_eq!(stored, completed, "{context}: completed");
                    }
                    (Some(Err(_)), true) => {
                        assert!(
                            stored.is_empty(),
                            "{context}: failed, yet stored {stored:?}"
                        )
                    }
                    (Some(Ok(())), true) => assert!(
                        shape
                            .allowed_after_cut()
                            .iter()
                            .any(|set| suffixes(set) == stored),
                        "{context}: stored {stored:?}"
                    ),
                    (None, _) => assert!(
                        whole_cut_left(&stored),
                        "{context}: partial effects {stored:?}"
                    ),
                }
                next_operation_answers(&objects, &tag).await;
                if !attempt.cut {
                    break;
                }
                cuts += 1;
            }
        }
    }
    assert_eq!(
        db.busy_sessions().await,
        0,
        "sessions still busy at the end"
    );
    for (tag, completed, side, context) in whole_cuts {
        let stored: Vec<String> = tagged_keys(&objects, &tag)
            .await
            .into_iter()
            .filter(|key| !key.ends_with('z'))
            .collect();
        assert!(
            stored.is_empty() || stored == completed || (!side.is_empty() && stored == side),
            "{context}: partial effects at the end {stored:?}"
        );
    }
    eprintln!("cut_at_every_poll: {cuts} cut points, each checked");
    cuts
}

async fn tagged_keys<D: Db>(objects: &Manager<D>, tag: &str) -> Vec<String> {
    let q = PageBlock::select()
        .columns(PageBlock::KEY)
        .where_(PageBlock::KEY.startswith(tag))
        .order_by(PageBlock::KEY);
    objects.execute(q).await.expect("the rows after a cut")
}

async fn next_operation_answers<D: Db>(objects: &Manager<D>, tag: &str) {
    let next = objects
        .create(PageBlock::new(format!("{tag}z"), "next"))
        .await
        .expect("the next operation runs");
    let read: PageBlock = objects
        .get(PageBlock::KEY.eq(next.key.clone()))
        .await
        .expect("the next read");
    assert_eq!(read, next, "the next read returns the row just written");
    let counted = objects
        .count(PageBlock::select().where_(PageBlock::KEY.eq(next.key.clone())))
        .await
        .expect("count");
    assert_eq!(counted, 1, "the next count");
}

/// A transaction guard dropped between statements closes its connection at once: before
/// the database is used again, no session is left in a transaction, and a Manager cloned
/// from the guard can no longer write into it.
pub async fn dropped_guard_leaves_nothing_open<D: Db>(db: &D) {
    let objects = setup(db).await;
    for savepoint_too in [false, true] {
        let tx = objects.begin_atomic().await.expect("begin");
        tx.create(PageBlock::new("lost", "")).await.expect("insert");
        let clone = (*tx).clone();
        if savepoint_too {
            let sp = tx.begin_atomic().await.expect("savepoint");
            sp.create(PageBlock::new("lost-too", ""))
                .await
                .expect("insert");
            drop(sp);
        }
        drop(tx);
        assert_eq!(
            db.busy_sessions().await,
            0,
            "a dropped guard left its session in a transaction"
        );
        let late = clone.create(PageBlock::new("late", "")).await;
        assert!(
            matches!(late, Err(Error::Transaction(_))),
            "a statement after the guard was dropped must fail: {late:?}"
        );
        assert_eq!(
            keys(&objects).await,
            Vec::<String>::new(),
            "nothing was kept"
        );
    }
}

/// A task's transaction scope belongs to one database: inside `a.atomic(..)`, a Manager
/// of database `b` writes to `b` directly, and `a`'s rollback leaves `b`'s row in place.
pub async fn scopes_belong_to_their_database<D: Db>(a: &D, b: &D) {
    let (in_a, in_b) = (setup(a).await, setup(b).await);
    let outcome = in_a
        .atomic(|tx| {
            let in_b = in_b.clone();
            async move {
                tx.create(PageBlock::new("in-a", "")).await?;
                in_b.create(PageBlock::new("in-b", "")).await?;
                Err::<(), _>(body_failed())
            }
        })
        .await;
    assert!(matches!(outcome, Err(Error::Query(_))), "{outcome:?}");
    assert_eq!(keys(&in_a).await, Vec::<String>::new(), "a rolled back");
    assert_eq!(
        keys(&in_b).await,
        vec!["in-b".to_string()],
        "b's row is b's own"
    );
}

/// `get` of a query with a limit of the user's own respects it: `limit(1)` over three
/// rows is the first row, not `MultipleRows`.
pub async fn get_respects_the_users_limit<D: Db>(db: &D) {
    let objects = setup(db).await;
    for key in ["l1", "l2", "l3"] {
        objects
            .create(PageBlock::new(key, ""))
            .await
            .expect("create");
    }
    let first: PageBlock = objects
        .get(PageBlock::select().order_by(PageBlock::KEY).limit(1))
        .await
        .expect("the user's limit holds");
    assert_eq!(first.key, "l1");
    let many = objects.get::<PageBlock, _>(PageBlock::select()).await;
    assert!(matches!(many, Err(Error::MultipleRows { .. })), "{many:?}");
}

/// `close()` returns at once while a transaction holds the connection, from inside the
/// scope or from another task; the transaction is not cut under it (it commits), and the
/// next call connects again.
pub async fn close_returns_while_a_transaction_is_open<D: Db>(db: &D) {
    let objects = setup(db).await;
    let bounded = Duration::from_secs(2);
    objects
        .atomic(|tx| async move {
            tx.create(PageBlock::new("inside", "")).await?;
            tokio::time::timeout(bounded, tx.close())
                .await
                .expect("close() from inside the scope returns");
            tx.create(PageBlock::new("inside-after", "")).await?;
            Ok::<_, Error>(())
        })
        .await
        .expect("the transaction commits");
    let tx = objects.begin_atomic().await.expect("begin");
    tx.create(PageBlock::new("other-task", ""))
        .await
        .expect("insert");
    let closer = objects.clone();
    tokio::spawn(async move { tokio::time::timeout(bounded, closer.close()).await })
        .await
        .expect("task")
        .expect("close() from another task returns");
    tx.commit().await.expect("commit after close()");
    assert_eq!(
        keys(&objects).await,
        vec!["inside", "inside-after", "other-task"],
        "every committed row, read on a new connection"
    );
}

/// The Manager is an executor: any query (`Query::execute`, raw SQL, RETURNING through
/// `Manager::execute`) runs through it, inside its transaction scope when it has one.
pub async fn every_query_runs_in_the_scope<D: Db>(db: &D) {
    let objects = setup(db).await;
    let kept = objects
        .create(PageBlock::new("kept", "before"))
        .await
        .expect("create");
    let returning = Executor::dialect(db).supports_returning();
    let outcome = objects
        .atomic(|tx| async move {
            PageBlock::update()
                .set(PageBlock::TEXT, "changed")
                .where_(PageBlock::KEY.eq("kept"))
                .execute(&tx)
                .await?;
            PageBlock::new("inside", "").insert().execute(&tx).await?;
            let seen = raw_query::<i64>("SELECT count(*) FROM page_block", vec![])
                .fetch_one(&tx)
                .await?;
            assert_eq!(seen, 2, "the scope sees its own rows");
            if returning {
                let ids: Vec<i64> = tx
                    .execute(
                        PageBlock::update()
                            .set(PageBlock::TEXT, "again")
                            .where_(PageBlock::KEY.eq("kept"))
                            .returning(PageBlock::ID),
                    )
                    .await?;
                assert_eq!(ids, vec![kept.id]);
            }
            Err::<(), _>(body_failed())
        })
        .await;
    assert!(matches!(outcome, Err(Error::Query(_))), "{outcome:?}");
    let after: PageBlock = objects.get(PageBlock::KEY.eq("kept")).await.expect("kept");
    assert_eq!(
        after.text, "before",
        "the update ran in the rolled-back scope"
    );
    assert_eq!(keys(&objects).await, vec!["kept"], "so did the insert");
}

/// A guard's transaction is the task's: after `begin_transaction()`, calls through the
/// original Manager on the same task join it at once (never wait for its connection),
/// `atomic` nests as a savepoint, and all of it ends with the guard.
pub async fn guard_transactions_join_the_task<D: Db>(db: &D) {
    let objects = setup(db).await;
    let bounded = Duration::from_secs(5);
    let tx = objects.begin_transaction().await.expect("begin");
    assert!(objects.in_transaction_now());
    tokio::time::timeout(bounded, objects.create(PageBlock::new("joined", "")))
        .await
        .expect("the original Manager joins at once")
        .expect("insert");
    let nested = tokio::time::timeout(
        bounded,
        objects.atomic(|sp| async move {
            sp.create(PageBlock::new("nested", "")).await?;
            Err::<(), _>(body_failed())
        }),
    )
    .await
    .expect("a nested scope does not wait");
    assert!(matches!(nested, Err(Error::Query(_))), "{nested:?}");
    tx.rollback().await.expect("rollback");
    assert!(!objects.in_transaction_now(), "the guard's end ends it");
    assert_eq!(
        keys(&objects).await,
        Vec::<String>::new(),
        "rolled back with the guard"
    );
    let tx = objects.begin_atomic().await.expect("begin");
    objects
        .create(PageBlock::new("committed", ""))
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(keys(&objects).await, vec!["committed"]);
}

/// `allow_sync()` re-allows blocking calls and restores the previous policy after.
pub async fn allow_sync_guard<D: Db>(db: &D) {
    let objects = setup(db).await;
    db.sync_gate().set(SyncPolicy::Deny);
    let denied = PageBlock::select().fetch_all_sync(db);
    assert!(
        matches!(denied, Err(Error::SyncNotAllowed(_))),
        "{denied:?}"
    );
    {
        let _sync = objects.allow_sync();
        PageBlock::select()
            .fetch_all_sync(db)
            .expect("allowed under the guard");
    }
    assert_eq!(
        db.sync_gate().policy(),
        SyncPolicy::Deny,
        "the previous policy is back"
    );
    assert!(matches!(
        PageBlock::select().fetch_all_sync(db),
        Err(Error::SyncNotAllowed(_))
    ));
}

async fn setup_relations<D: Db>(db: &D) -> Manager<D> {
    let objects = setup(db).await;
    UserTag::create_table_async(db, true)
        .await
        .expect("create user_tag");
    Comment::create_table_async(db, true)
        .await
        .expect("create comment");
    Note::create_table_async(db, true)
        .await
        .expect("create note");
    // Every model with a foreign key to User is a dependent: its table must exist.
    Token::create_table_async(db, true)
        .await
        .expect("create token");
    objects
}

/// Creates `users` users with `posts` posts each and `comments` comments per post.
pub async fn seed_relations<D: Db>(
    objects: &Manager<D>,
    users: usize,
    posts: usize,
    comments: usize,
) -> Vec<User> {
    let mut made = Vec::new();
    for u in 0..users {
        made.push(
            objects
                .create(User::new(format!("user{u}"), u as i32, None))
                .await
                .expect("user"),
        );
    }
    let post_rows: Vec<Post> = made
        .iter()
        .flat_map(|u| {
            (0..posts).map(move |p| Post::new(u.id, format!("{}-post{p}", u.name), p as f64))
        })
        .collect();
    if post_rows.is_empty() {
        return made;
    }
    let post_ids = objects
        .execute(Post::insert_many(&post_rows))
        .await
        .expect("posts");
    let comment_rows: Vec<Comment> = post_ids
        .iter()
        .flat_map(|id| (0..comments).map(move |c| Comment::new(*id, format!("comment{c}"))))
        .collect();
    if !comment_rows.is_empty() {
        objects
            .execute(Comment::insert_many(&comment_rows))
            .await
            .expect("comments");
    }
    made
}

/// delete_recursive deletes what depends on the object, or sets nullable references to
/// NULL unless asked to delete them too.
pub async fn delete_recursive<D: Db>(db: &D) {
    let objects = setup_relations(db).await;
    let users = seed_relations(&objects, 2, 2, 2).await;
    let (a, b) = (&users[0], &users[1]);
    objects
        .create(UserTag::new(a.id, "admin", 1))
        .await
        .expect("tag");
    let note_a = objects
        .create(Note::new(Some(a.id), "about a"))
        .await
        .expect("note");
    let note_b = objects
        .create(Note::new(Some(b.id), "about b"))
        .await
        .expect("note");
    // A plain delete is refused while comments still point at the posts.
    assert!(
        objects.delete(a).await.is_err(),
        "comments reference a's posts"
    );

    assert_eq!(
        objects
            .delete_recursive(a, orm_manager::OnNullable::SetNull)
            .await
            .expect("recursive"),
        1
    );
    assert_eq!(
        objects
            .get_or_none::<User, _>(User::ID.eq(a.id))
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        objects
            .count_ignoring_limit(Post::select().where_(Post::AUTHOR_ID.eq(a.id)))
            .await
            .expect("posts"),
        0
    );
    assert_eq!(
        objects
            .count_ignoring_limit(Comment::select())
            .await
            .expect("comments"),
        4,
        "b's comments stay"
    );
    assert_eq!(
        objects
            .count_ignoring_limit(UserTag::select())
            .await
            .expect("tags"),
        0
    );
    let kept: Note = objects
        .get(Note::ID.eq(note_a.id))
        .await
        .expect("the nullable reference is kept");
    assert_eq!(kept.user_id, None);

    objects
        .delete_recursive(b, orm_manager::OnNullable::Delete)
        .await
        .expect("recursive, nullable too");
    assert_eq!(
        objects
            .get_or_none::<Note, _>(Note::ID.eq(note_b.id))
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        objects
            .count_ignoring_limit(Comment::select())
            .await
            .expect("comments"),
        0
    );
}

/// prefetch loads one query per relation and attaches the rows, both directions, nested.
pub async fn prefetch<D: Db>(db: &D) {
    let objects = setup_relations(db).await;
    let users = seed_relations(&objects, 3, 2, 3).await;
    let lonely = objects
        .create(User::new("lonely", 99, None))
        .await
        .expect("user without posts");
    let result = objects
        .prefetch(
            User::select().order_by(User::ID),
            (Post::select().order_by(Post::ID), Comment::select()),
        )
        .await
        .expect("prefetch");
    assert_eq!(result.rows().len(), 4);
    for user in &users {
        let posts: Vec<&Post> = result.related(user);
        assert_eq!(posts.len(), 2, "{}", user.name);
        assert!(posts.iter().all(|p| p.author_id == user.id));
        for post in posts {
            let comments: Vec<&Comment> = result.related(post);
            assert_eq!(comments.len(), 3);
            assert!(comments.iter().all(|c| c.post_id == post.id));
        }
    }
    assert!(result.related::<Post, _>(&lonely).is_empty());

    // Many-to-one: each post's author.
    let posts = objects
        .prefetch(Post::select(), (User::select(),))
        .await
        .expect("prefetch authors");
    for post in posts.rows() {
        let authors: Vec<&User> = posts.related(post);
        assert_eq!(authors.len(), 1);
        assert_eq!(authors[0].id, post.author_id);
    }
    // A subquery's own filter applies.
    let filtered = objects
        .prefetch(
            User::select(),
            (Post::select().where_(Post::SCORE.gt(0.5)),),
        )
        .await
        .expect("filtered");
    assert_eq!(filtered.related::<Post, _>(&users[0]).len(), 1);
    // A model with no foreign key to what is loaded is a clear error.
    let err = objects
        .prefetch(User::select(), (PageBlock::select(),))
        .await
        .err();
    assert!(matches!(err, Some(Error::Query(_))), "{err:?}");
}

/// Inside an outer transaction, a conflicting get_or_create / create_or_get does not abort
/// it; close() then a call reconnects; the low-level functions work on any executor.
pub async fn conflicts_close_and_low_level<D: Db>(db: &D) {
    let objects = setup(db).await;
    objects
        .create(PageBlock::new("taken", "first"))
        .await
        .expect("create");
    objects
        .atomic(|tx| async move {
            let (row, created) = tx.create_or_get(PageBlock::new("taken", "second")).await?;
            assert!(!created);
            assert_eq!(row.text, "first");
            let (_, created) = tx
                .get_or_create(PageBlock::KEY.eq("fresh"), PageBlock::new("fresh", ""))
                .await?;
            assert!(created);
            // The transaction is still usable after the conflict.
            tx.create(PageBlock::new("after-conflict", ""))
                .await
                .map(drop)
        })
        .await
        .expect("the outer transaction commits");
    assert_eq!(keys(&objects).await, ["after-conflict", "fresh", "taken"]);

    objects.close().await;
    assert_eq!(
        objects
            .count_ignoring_limit(PageBlock::select())
            .await
            .expect("a call after close reconnects"),
        3
    );
    objects.connect().await.expect("connect");
    futures_util::future::try_join_all((0..8).map(|_| {
        let objects = objects.clone();
        async move { objects.count_ignoring_limit(PageBlock::select()).await }
    }))
    .await
    .expect("concurrent first uses");

    // The low-level layer, directly on the database.
    let made = orm_manager::create_object(db, PageBlock::new("low", "level"))
        .await
        .expect("create_object");
    let got: PageBlock = orm_manager::get_object(db, PageBlock::ID.eq(made.id))
        .await
        .expect("get_object");
    assert_eq!(got, made);
    let mut changed = got.clone();
    changed.text = "changed".into();
    assert_eq!(
        orm_manager::update_object(db, &mut changed, None)
            .await
            .expect("update_object"),
        1
    );
    assert_eq!(
        orm_manager::count_rows(db, PageBlock::select(), orm_manager::CountLimit::Ignore)
            .await
            .expect("count"),
        4
    );
    let max_id = orm_manager::scalar(db, PageBlock::select().columns(max(PageBlock::ID)))
        .await
        .expect("scalar");
    assert_eq!(max_id, Some(Some(made.id)));
    let rows = orm_manager::execute(
        db,
        PageBlock::select().where_(PageBlock::TEXT.eq("changed")),
    )
    .await
    .expect("execute");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        orm_manager::delete_object(db, &changed)
            .await
            .expect("delete_object"),
        1
    );
    let committed = orm_manager::atomic(db, |tx| async move {
        tx.create(PageBlock::new("via-atomic", "")).await
    })
    .await;
    assert!(committed.is_ok());
    let nested = orm_manager::transaction(db, |_| async {
        orm_manager::savepoint(db, |_| async { Ok::<_, Error>(()) }).await
    })
    .await;
    assert!(
        nested.is_ok(),
        "savepoint() joins the task's transaction: {nested:?}"
    );
}

/// Two transactions that lock two rows in opposite orders deadlock; the server picks one,
/// and its error says it can be retried. (Servers with row locks only: run on a pool of 2.)
pub async fn deadlock_is_retryable<D: Db>(db: &D) {
    let objects = setup(db).await;
    let a = objects.create(PageBlock::new("a", "")).await.expect("a");
    let b = objects.create(PageBlock::new("b", "")).await.expect("b");
    let bump = |id: i64| {
        PageBlock::update()
            .set(PageBlock::TEXT, "locked")
            .where_(PageBlock::ID.eq(id))
    };
    let t1 = objects.begin_transaction().await.expect("t1");
    // A guard's transaction is its task's: the second, independent one is opened by
    // another task, and its guard handed back.
    let t2 = {
        let objects = objects.clone();
        tokio::spawn(async move { objects.begin_transaction().await })
    };
    let t2 = t2.await.expect("task").expect("t2");
    t1.execute(bump(a.id)).await.expect("t1 locks a");
    t2.execute(bump(b.id)).await.expect("t2 locks b");
    let (r1, r2) = tokio::join!(t1.execute(bump(b.id)), t2.execute(bump(a.id)));
    let err = match (r1, r2) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("expected exactly one deadlock victim, got {other:?}"),
    };
    assert!(err.is_retryable(), "{err:?}");
    let _ = t1.rollback().await;
    let _ = t2.rollback().await;
}

/// bulk_insert: more rows than one statement may carry, all or none; a plain
/// insert_many that large is refused before sending.
pub async fn bulk_insert<D: Db>(db: &D) {
    let objects = setup(db).await;
    let blocks: Vec<PageBlock> = (0..50_000)
        .map(|i| PageBlock::new(format!("key {i}"), format!("text {i}")))
        .collect();
    let count = |objects: &Manager<D>| {
        let objects = objects.clone();
        async move { objects.count(PageBlock::select()).await.expect("count") }
    };

    match objects.execute(PageBlock::insert_many(&blocks)).await {
        Err(Error::Query(message)) => assert!(message.contains("at most"), "{message}"),
        other => panic!("an oversized insert_many is refused: {other:?}"),
    }
    assert_eq!(count(&objects).await, 0);

    assert_eq!(
        objects.bulk_insert::<PageBlock>(&[]).await.expect("empty"),
        0
    );
    assert_eq!(objects.bulk_insert(&blocks).await.expect("bulk"), 50_000);
    assert_eq!(count(&objects).await, 50_000);
    let last: PageBlock = objects
        .get(PageBlock::KEY.eq("key 49999"))
        .await
        .expect("the last row");
    assert_eq!(last.text, "text 49999");

    // A duplicate in the last statement: nothing of this batch stays.
    let mut again: Vec<PageBlock> = (50_000..100_000)
        .map(|i| PageBlock::new(format!("key {i}"), String::new()))
        .collect();
    again.push(PageBlock::new("key 0", ""));
    match objects.bulk_insert(&again).await {
        Err(Error::Integrity { .. }) => {}
        other => panic!("a duplicate key fails the whole batch: {other:?}"),
    }
    assert_eq!(
        count(&objects).await,
        50_000,
        "no row of the failed batch stays"
    );

    // Inside an outer transaction, the batch rolls back with it.
    let result: Result<()> = objects
        .atomic(|tx| async move {
            tx.bulk_insert(&again[..again.len() - 1]).await?;
            assert_eq!(count(&tx).await, 100_000);
            Err(Error::Query("roll back".into()))
        })
        .await;
    assert!(result.is_err());
    assert_eq!(count(&objects).await, 50_000);
}

/// execute_raw: a raw write with bound values, counted, inside and outside a transaction.
pub async fn raw_writes<D: Db>(db: &D) {
    let objects = setup(db).await;
    let title = objects
        .create(PageBlock::new("title", "old"))
        .await
        .expect("create");
    // (`key` is reserved on MySQL; raw SQL is the caller's to quote.)
    let update = "UPDATE page_block SET text = ? WHERE id = ?";
    // A value that looks like SQL stays a value.
    let sneaky = "x'; DELETE FROM page_block; --";
    let changed = objects
        .execute_raw(update, vec![sneaky.into(), title.id.into()])
        .await
        .expect("raw update");
    assert_eq!(changed, 1);
    let block: PageBlock = objects.get(PageBlock::KEY.eq("title")).await.expect("get");
    assert_eq!(block.text, sneaky);

    let result: Result<()> = objects
        .atomic(|tx| async move {
            tx.execute_raw(update, vec!["inside".into(), title.id.into()])
                .await?;
            Err(Error::Query("roll back".into()))
        })
        .await;
    assert!(result.is_err());
    let block: PageBlock = objects.get(PageBlock::KEY.eq("title")).await.expect("get");
    assert_eq!(
        block.text, sneaky,
        "the raw write rolled back with its transaction"
    );
    let missing = objects
        .execute_raw(update, vec!["x".into(), (title.id + 1).into()])
        .await
        .expect("no match");
    assert_eq!(missing, 0);
    match objects
        .execute_raw("UPDATE no_such_table SET x = 1", vec![])
        .await
    {
        Err(Error::Database { .. }) => {}
        other => panic!("a bad statement is a database error: {other:?}"),
    }
}

/// Declares one `#[tokio::test]` per Manager check, on the database `$make(name)` returns.
/// A transaction opened read only refuses writes and leaves the table as it was; the
/// session is itself again afterwards (SQLite switches `query_only` off); every isolation
/// level opens and commits, in the closure and the guard form.
pub async fn transaction_options<D: Db>(db: &D) {
    let objects = setup(db).await;
    objects
        .create(PageBlock::new("before", ""))
        .await
        .expect("seed");
    let read_only = TxOptions::new().read_only(true);
    let refused = objects
        .transaction_with(read_only, |tx| async move {
            let seen = tx.count_ignoring_limit(PageBlock::select()).await?;
            assert_eq!(seen, 1, "a read-only transaction reads");
            tx.create(PageBlock::new("refused", "")).await
        })
        .await;
    assert!(
        matches!(refused, Err(Error::Database { .. })),
        "a write in a read-only transaction is refused by the server: {refused:?}"
    );
    assert_eq!(keys(&objects).await, ["before"]);
    objects
        .create(PageBlock::new("after", ""))
        .await
        .expect("writes work again after the read-only transaction");
    for level in [
        IsolationLevel::ReadUncommitted,
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ] {
        let key = format!("{level:?}");
        let guard = objects
            .begin_transaction_with(TxOptions::new().isolation(level))
            .await
            .expect("begin with a level");
        guard
            .create(PageBlock::new(&key, ""))
            .await
            .expect("write at the level");
        guard.commit().await.expect("commit at the level");
    }
    assert_eq!(keys(&objects).await.len(), 6);
    assert_eq!(db.busy_sessions().await, 0, "nothing left open");
}

/// When the body fails and the ROLLBACK after it fails too (the session was ended under
/// it), the caller learns it: [`Error::RollbackFailed`], not the body's error alone. The
/// work is rolled back all the same, and the next call answers.
pub async fn failed_rollback_is_reported<D: Db>(db: &D) {
    let objects = setup(db).await;
    // Ends the transaction's session (or, on SQLite, its transaction) behind its back.
    let sabotage = match Executor::dialect(db).name() {
        "postgres" => "SELECT pg_terminate_backend(pg_backend_pid())",
        "mysql" => "KILL CONNECTION_ID()",
        _ => "COMMIT",
    };
    let result: Result<()> = objects
        .atomic(|tx| async move {
            tx.create(PageBlock::new("lost", "")).await?;
            let _ = tx.execute_raw(sabotage, vec![]).await;
            Err(Error::Query("the body failed".into()))
        })
        .await;
    match result {
        Err(Error::RollbackFailed { .. }) => {}
        other => panic!("expected RollbackFailed, got {other:?}"),
    }
    // A Galera node commits the transaction of a session that kills itself (seen with
    // the mariadb client too; killed from another session, it rolls back).
    let galera = Executor::dialect(db).name() == "mysql"
        && objects
            .execute(raw_query::<i64>(
                "SELECT CAST(@@wsrep_on AS SIGNED)",
                vec![],
            ))
            .await
            // MySQL has no such variable: not Galera.
            .is_ok_and(|on| on == [1]);
    match Executor::dialect(db).name() {
        // SQLite's COMMIT stood in for the cut session: there the row was committed.
        "sqlite" => assert_eq!(keys(&objects).await, ["lost"]),
        _ if galera => assert_eq!(keys(&objects).await, ["lost"], "Galera commits"),
        _ => assert_eq!(keys(&objects).await, Vec::<String>::new(), "rolled back"),
    }
    objects
        .create(PageBlock::new("next", ""))
        .await
        .expect("the next call answers");
    assert_eq!(db.busy_sessions().await, 0, "nothing left open");
}

/// A statement's own time limit (`Query::timeout`) stops it on the server, outside a
/// transaction and inside one, async and blocking; a quick limited statement answers; no
/// limit is left behind on the session or the transaction.
pub async fn statement_timeouts<D: Db>(db: &D) {
    let objects = setup(db).await;
    let dialect = Executor::dialect(db).name();
    let slow = match dialect {
        "postgres" => "SELECT pg_sleep(5)::text",
        "mysql" => "SELECT CAST(SLEEP(5) AS CHAR)",
        _ => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
             SELECT CAST(count(*) AS TEXT) FROM (SELECT x FROM c LIMIT 2000000000)"
        }
    };
    let limit = Duration::from_millis(300);
    let stopped_quickly = |outcome: &Result<Vec<String>>, started: Instant, what: &str| {
        assert!(
            matches!(outcome, Err(Error::Database { .. })),
            "{dialect} {what}: the server stops it: {outcome:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{dialect} {what}: stopped after {:?}",
            started.elapsed()
        );
    };
    let started = Instant::now();
    let outcome = objects
        .execute(raw_query::<String>(slow, vec![]).timeout(limit))
        .await;
    stopped_quickly(&outcome, started, "through the Manager");
    let started = Instant::now();
    let outcome = raw_query::<String>(slow, vec![])
        .timeout(limit)
        .fetch_all(db)
        .await;
    stopped_quickly(&outcome, started, "on the database");
    let started = Instant::now();
    let blocking = db.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        raw_query::<String>(slow, vec![])
            .timeout(limit)
            .fetch_all_sync(&blocking)
    })
    .await
    .expect("blocking");
    stopped_quickly(&outcome, started, "blocking");
    let quick: Vec<String> = objects
        .execute(raw_query("SELECT 'ok'", vec![]).timeout(limit))
        .await
        .expect("a quick limited statement answers");
    assert_eq!(quick, ["ok"]);

    // Inside a transaction: stopped the same way.
    let started = Instant::now();
    let inside = objects
        .atomic(|tx| async move {
            Ok::<_, Error>(
                tx.execute(raw_query::<String>(slow, vec![]).timeout(limit))
                    .await,
            )
        })
        .await
        .expect("the scope itself");
    stopped_quickly(&inside, started, "in a transaction");

    // No limit left behind: the transaction's own (PostgreSQL), the session's (MariaDB).
    let setting = match dialect {
        "postgres" => Some("SELECT current_setting('statement_timeout')"),
        "mysql" => Some("SELECT CAST(@@SESSION.max_statement_time AS CHAR)"),
        _ => None,
    };
    if let Some(setting) = setting {
        let own = TxOptions::new().statement_timeout(Duration::from_secs(7));
        let (before, after) = objects
            .transaction_with(own, |tx| async move {
                let before: Vec<String> = tx.execute(raw_query(setting, vec![])).await?;
                tx.execute(raw_query::<String>("SELECT 'ok'", vec![]).timeout(limit))
                    .await?;
                let after: Vec<String> = tx.execute(raw_query(setting, vec![])).await?;
                Ok::<_, Error>((before, after))
            })
            .await
            .expect("a transaction");
        assert_eq!(
            before, after,
            "{dialect}: the transaction's own limit is back"
        );
        let outside: Vec<String> = objects
            .execute(raw_query(setting, vec![]))
            .await
            .expect("setting");
        assert_ne!(
            outside, before,
            "{dialect}: the transaction's limit ended with it"
        );
    }

    // A stream: PostgreSQL cannot limit one statement of a stream, and says so.
    let rows: Vec<Result<String>> = objects
        .stream(&raw_query::<String>("SELECT 'ok'", vec![]).timeout(limit))
        .collect()
        .await;
    match dialect {
        "postgres" => assert!(
            matches!(rows.as_slice(), [Err(Error::Query(_))]),
            "{rows:?}"
        ),
        _ => assert!(
            matches!(rows.as_slice(), [Ok(ok)] if ok == "ok"),
            "{rows:?}"
        ),
    }
    assert_eq!(db.busy_sessions().await, 0, "nothing left open");
}

#[macro_export]
macro_rules! manager_suite {
    ($make:path) => {
        $crate::manager_suite!(@tests $make;
            crud get_or_create_basics get_or_create_race atomic_commits_and_rolls_back nested_scopes
            guards scope_follows_the_task isolation cancellation allow_sync_guard delete_recursive
            prefetch conflicts_close_and_low_level bulk_insert raw_writes cut_at_every_poll
            dropped_guard_leaves_nothing_open get_respects_the_users_limit
            tagging_in_concurrent_transactions get_or_create_inside_transactions
            close_returns_while_a_transaction_is_open every_query_runs_in_the_scope
            guard_transactions_join_the_task transaction_options failed_rollback_is_reported
            statement_timeouts save_and_look test_transaction_leaves_nothing
            connection_state_and_scalar_map versions_and_timestamps lifecycle_hooks soft_delete
            named_construction conditions_know_their_model);
    };
    (@tests $make:path; $($name:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = $make(stringify!($name));
                $crate::manager_suite::$name(&db).await;
            }
        )*
    };
}
