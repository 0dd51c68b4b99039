// Package devserver runs a Temporal server and the Temporal UI inside the
// orderflow process, for `orderflow dev` and the end-to-end tests.
//
// It embeds go.temporal.io/server with all four services (frontend, history,
// matching, worker) in one process. Only the frontend is meant to be dialled;
// the other services listen on 127.0.0.1 at ports picked free at every start
// and find each other through static host lists, not ringpop. The UI is
// github.com/temporalio/ui-server with its compiled-in assets, pointed at the
// frontend.
//
// # Why SQLite
//
// The server's SQLite plugin (pure Go, modernc.org/sqlite) needs no other
// process: a developer runs one command and has a Temporal cluster, and a
// test gets one in a second or two. Options.DataDir names a directory that
// holds one file, temporal.db (plus SQLite's -wal and -shm while it runs).
// The first start creates the schema and the namespace with its search
// attributes; later starts reuse the file, so orders in flight survive a
// restart of `orderflow dev` and go on where they were. Delete the directory
// to start from nothing. An empty DataDir keeps everything in memory, for
// tests that want a clean slate and nothing left behind.
//
// The file runs in WAL mode with synchronous=NORMAL: SQLite's default journal
// waits for the disk on every commit and makes a file-backed server several
// times slower than an in-memory one. The cost is that a machine crash can
// lose the last moments of history; a dev server can afford that.
//
// # PostgreSQL
//
// With Options.Store set to StorePostgres the server keeps its data in two
// databases on the PostgreSQL server of Options.PostgresURL, named after
// that URL's database: <name>_temporal (executions, task queues,
// namespaces) and <name>_temporal_visibility (what List and Count query).
// Every start creates them when they are missing and brings their schemas to
// the ones this server version ships, with the server's own schema tool
// (go.temporal.io/server/tools/common/schema over the embedded
// postgresql/v12 schema, as `temporal-sql-tool setup-schema -v 0.0` and
// `update-schema` would): a current schema is left alone, an older one is
// updated step by step. The namespace and its search attributes are
// registered over the API once the server answers. Four history shards,
// fixed when the databases are first used.
//
// # Not for production
//
// One SQLite connection, one history shard and no replication are a
// developer's setup, not a deployment; so is one process holding every
// service on PostgreSQL. Production runs the worker and api
// processes against a real Temporal cluster (PostgreSQL persistence, several
// shards, the cluster's own UI); see deploy/. Only cmd and the end-to-end
// tests should import this package: it links the whole server.
//
// # Logs
//
// The server logs each shard, queue and membership change at Info. While it
// serves, only its Warn and Error records reach Options.Logger; while it
// starts and stops, only its errors do, because its services warn about each
// other coming and going. Start's own error says what kept it from starting.
package devserver
