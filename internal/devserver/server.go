package devserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	"github.com/orderflow/orderflow/internal/temporalsetup"
)

const (
	defaultNamespace    = "default"
	defaultFrontendAddr = "127.0.0.1:7233"

	// DBFileName is the SQLite file the server keeps in Options.DataDir.
	DBFileName = "temporal.db"

	// clusterName names the single cluster; it is persisted with the data,
	// so it must never change for an existing DataDir or database.
	clusterName = "active"
	// namespaceRetention is how long a namespace Start registers keeps
	// closed workflows' histories (what sqliteschema registers with too).
	namespaceRetention = 24 * time.Hour

	// readyTimeout bounds the wait for the frontend, the search attributes
	// and the UI when the caller's context has no deadline of its own: a dev
	// server that does not answer within a minute is broken, not slow.
	readyTimeout = time.Minute
	// pollInterval is the pause between readiness checks.
	pollInterval = 100 * time.Millisecond
	// uiStopWait bounds how long Stop waits for the UI's goroutine to end.
	uiStopWait = 5 * time.Second
)

// Options configure Start.
type Options struct {
	// Store is where Temporal's data is kept; "" = StoreSQLite.
	Store Store
	// DataDir holds the SQLite file (temporal.db). Empty = in-memory (tests): nothing survives Stop.
	// Only for StoreSQLite.
	DataDir string
	// PostgresURL, for StorePostgres, is a database URL whose server holds
	// Temporal's two databases and whose database name they are named after
	// (see PostgresDatabaseURLs): orderflow's own DATABASE_URL. Start
	// creates the databases when they are missing and sets up or updates
	// their schemas; what they hold survives Stop.
	PostgresURL string
	// FrontendAddr is the host:port of the gRPC frontend; "127.0.0.1:0" picks a free port.
	// Empty means 127.0.0.1:7233, Temporal's usual port.
	FrontendAddr string
	// UIAddr is the host:port of the Temporal UI; "" = no UI; port 0 picks a free port.
	UIAddr string
	// Namespace is created on first start; default "default".
	Namespace string
	// SearchAttributes are registered on Namespace, on first start and on
	// every restart (missing ones are added; existing ones must have the same type).
	SearchAttributes map[string]enums.IndexedValueType
	// Logger receives the server's logs at Warn and above while it serves,
	// and only its errors while it starts and stops; nil = discard.
	Logger *slog.Logger
}

// Server is a running Temporal server (frontend, history, matching and
// worker services in this process) and, optionally, the Temporal UI.
type Server struct {
	temporal     temporal.Server
	frontendAddr string
	namespace    string
	logLevel     *slog.LevelVar // threshold of the server's logs, see servingLevel

	ui     *uiserver.Server
	uiDone chan struct{} // closed when the UI's Start returns
	uiURL  string

	stopOnce sync.Once
	stopErr  error
}

// Start starts the server and returns once the frontend answers, the
// namespace exists with every requested search attribute usable in queries,
// and the UI (if asked for) serves. ctx bounds that wait (a minute when it has
// no deadline); it does not bound the server's life: call Stop.
func Start(ctx context.Context, o Options) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start Temporal dev server: %w", err)
	}
	if o.Namespace == "" {
		o.Namespace = defaultNamespace
	}
	if o.FrontendAddr == "" {
		o.FrontendAddr = defaultFrontendAddr
	}
	logLevel := new(slog.LevelVar)
	logLevel.Set(transitionLevel)
	logger := newLevelLogger(o.Logger, logLevel)

	frontend, err := resolveEndpoint("frontend", o.FrontendAddr)
	if err != nil {
		return nil, err
	}
	var ui *endpoint
	if o.UIAddr != "" {
		e, err := resolveEndpoint("UI", o.UIAddr)
		if err != nil {
			return nil, err
		}
		if e.String() == frontend.String() {
			return nil, fmt.Errorf("UI address %s is the frontend address", e)
		}
		ui = &e
	}

	var store persistence
	switch o.Store {
	case "", StoreSQLite:
		if o.PostgresURL != "" {
			return nil, errors.New("start Temporal dev server: PostgresURL is only for the postgres store")
		}
		if store, err = openSQLite(o.DataDir); err != nil {
			return nil, err
		}
		// Registering the namespace in the file before the server starts
		// means it exists, with its search attributes, from the first
		// request on. On an existing file this is a no-op;
		// ensureSearchAttributes covers attributes added since.
		ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, o.SearchAttributes)
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", o.Namespace, err)
		}
		if err := sqliteschema.CreateNamespaces(store.main, ns); err != nil {
			return nil, fmt.Errorf("register namespace %s in %s: %w", o.Namespace, store.main.DatabaseName, err)
		}
	case StorePostgres:
		if o.PostgresURL == "" {
			return nil, errors.New("start Temporal dev server: the postgres store needs PostgresURL")
		}
		if o.DataDir != "" {
			return nil, errors.New("start Temporal dev server: DataDir is only for the sqlite store")
		}
		// The namespace and its search attributes are registered over the
		// API once the server answers (waitReady): the server's own
		// pre-registration helper is SQLite's.
		if store, err = openPostgres(ctx, o.PostgresURL); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("start Temporal dev server: unknown store %q", o.Store)
	}

	ts, err := buildServer(frontend, store, logger)
	if err != nil {
		return nil, err
	}
	if err := ts.Start(); err != nil {
		return nil, fmt.Errorf("start Temporal server: %w", err)
	}
	s := &Server{temporal: ts, frontendAddr: frontend.dialAddr(), namespace: o.Namespace, logLevel: logLevel}

	readyCtx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		readyCtx, cancel = context.WithTimeout(ctx, readyTimeout)
		defer cancel()
	}
	if err := s.waitReady(readyCtx, o.SearchAttributes, logger); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	if ui != nil {
		if err := s.startUI(readyCtx, *ui, logger); err != nil {
			return nil, errors.Join(err, s.Stop())
		}
	}
	logLevel.Set(servingLevel)
	return s, nil
}

// FrontendAddr is the host:port SDK clients dial.
func (s *Server) FrontendAddr() string { return s.frontendAddr }

// UIURL is the Temporal UI's base URL, "" when it was not started.
func (s *Server) UIURL() string { return s.uiURL }

// Namespace is the namespace Start registered.
func (s *Server) Namespace() string { return s.namespace }

// Stop stops the UI and the server. Workflows in flight stay in the SQLite
// file or the PostgreSQL databases and go on at the next Start on the same
// DataDir or PostgresURL (an empty DataDir keeps nothing). Calling Stop
// again returns the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.logLevel.Set(transitionLevel)
		if s.ui != nil {
			s.ui.Stop()
			select {
			case <-s.uiDone:
			case <-time.After(uiStopWait):
			}
		}
		if err := s.temporal.Stop(); err != nil {
			s.stopErr = fmt.Errorf("stop Temporal server: %w", err)
		}
	})
	return s.stopErr
}

// persistence is where a server keeps its data.
type persistence struct {
	main *config.SQL
	// visibility is the visibility store's database; nil = main holds
	// visibility too (SQLite, one file).
	visibility *config.SQL
	// shards is the number of history shards, fixed when the store is
	// first used.
	shards int32
}

// sqliteShards: the shard count is fixed when the file is created; one
// shard is all a single SQLite connection can keep busy.
const sqliteShards = 1

// openSQLite returns the persistence config for DataDir, creating the
// directory and the schema on first use.
func openSQLite(dataDir string) (persistence, error) {
	conf, err := sqliteConfig(dataDir)
	if err != nil {
		return persistence{}, err
	}
	return persistence{main: conf, shards: sqliteShards}, nil
}

func sqliteConfig(dataDir string) (*config.SQL, error) {
	if dataDir == "" {
		// A shared-cache in-memory database lives as long as a connection
		// to it does, and the plugin creates its schema on first connect.
		// The name only has to be unique in this process.
		return &config.SQL{
			PluginName:   sqliteplugin.PluginName,
			DatabaseName: "devserver-" + rand.Text(),
			ConnectAttributes: map[string]string{
				"mode":  "memory",
				"cache": "shared",
			},
		}, nil
	}

	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dataDir, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, DBFileName)
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: path,
		// Keys other than SQLite URI parameters become PRAGMAs on every
		// connection. WAL with synchronous=NORMAL appends each commit to the
		// log without an fsync (a crash can lose the last commits, never
		// corrupt the file), which is what makes a file-backed dev server
		// usable: with the default rollback journal every persistence write
		// waits for the disk. busy_timeout makes a connection wait for the
		// lock instead of failing with "database is locked" while a
		// checkpoint or the schema setup holds it. The plugin keeps one
		// connection (MaxConns unset), so the server never competes with
		// itself for the write lock.
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		},
	}

	switch _, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		if err := sqliteschema.SetupSchema(conf); err != nil {
			// A half-built schema would be taken for a complete one at the
			// next start; without the file, the next start begins afresh.
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(path + suffix)
			}
			return nil, fmt.Errorf("create Temporal schema in %s: %w", path, err)
		}
	case err != nil:
		return nil, fmt.Errorf("check %s: %w", path, err)
	}
	return conf, nil
}

// buildAttempts bounds how often buildServer picks fresh internal ports.
const buildAttempts = 3

// buildServer builds (does not start) the server. Building binds every
// service's listener; when one fails to bind (a port picked free was taken
// before the server bound it) the server logs a Fatal and goes on without
// it, to crash on the nil listener then or at Start. So a Fatal while
// building is an error (see serverLogger), and the build is tried again on
// fresh internal ports: only the frontend's address is the caller's. The
// listeners a failed build did bind stay open until the process ends;
// nothing reaches them.
func buildServer(frontend endpoint, store persistence, logger *slog.Logger) (temporal.Server, error) {
	var errs []error
	for range buildAttempts {
		ts, err := buildOnce(frontend, store, logger)
		if err == nil {
			return ts, nil
		}
		errs = append(errs, err)
		var fatal fatalPanic
		if !errors.As(err, &fatal) {
			break
		}
	}
	return nil, fmt.Errorf("build Temporal server: %w", errors.Join(errs...))
}

func buildOnce(frontend endpoint, store persistence, logger *slog.Logger) (ts temporal.Server, err error) {
	fatals := &fatalLog{}
	opts, err := serverOptions(frontend, store, serverLogger{l: logger, fatals: fatals})
	if err != nil {
		return nil, err
	}
	fatals.building.Store(true)
	defer fatals.building.Store(false)
	defer func() {
		if r := recover(); r != nil {
			fatal, ok := r.(fatalPanic)
			if !ok {
				panic(r)
			}
			ts, err = nil, fatal
		}
	}()
	return temporal.NewServer(opts...)
}

// serverOptions builds the server for a single process: all four services
// here, each at a fixed address (static hosts instead of ringpop membership,
// so nothing gossips and no membership port is opened).
func serverOptions(frontend endpoint, store persistence, logger serverLogger) ([]temporal.ServerOption, error) {
	// The frontend's HTTP API (Temporal's REST mapping of the gRPC API, and
	// Nexus) gets a port of its own; without one the server warns at every
	// start that Nexus is unavailable.
	httpPort, err := freePort(frontend.host)
	if err != nil {
		return nil, fmt.Errorf("frontend HTTP API: %w", err)
	}
	httpAddr := endpoint{host: frontend.host, port: httpPort}.dialAddr()
	services := map[primitives.ServiceName]endpoint{primitives.FrontendService: frontend}
	for _, name := range []primitives.ServiceName{primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		port, err := freePort(loopback)
		if err != nil {
			return nil, fmt.Errorf("%s service: %w", name, err)
		}
		services[name] = endpoint{host: loopback, port: port}
	}

	conf := &config.Config{}
	conf.Global.Membership = config.Membership{
		MaxJoinDuration:  30 * time.Second,
		BroadcastAddress: loopback,
	}
	conf.Persistence = config.Persistence{
		DefaultStore:     "default",
		VisibilityStore:  "default",
		NumHistoryShards: store.shards,
		DataStores:       map[string]config.DataStore{"default": {SQL: store.main}},
	}
	if store.visibility != nil {
		conf.Persistence.VisibilityStore = "visibility"
		conf.Persistence.DataStores["visibility"] = config.DataStore{SQL: store.visibility}
	}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend.dialAddr(),
				HTTPAddress:            httpAddr,
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = make(map[string]config.Service, len(services))
	hosts := make(map[primitives.ServiceName]static.Hosts, len(services))
	for name, e := range services {
		conf.Services[string(name)] = config.Service{RPC: config.RPC{GRPCPort: e.port, BindOnIP: e.host}}
		hosts[name] = static.SingleLocalHost(e.dialAddr())
	}
	frontendConf := conf.Services[string(primitives.FrontendService)]
	frontendConf.RPC.HTTPPort = httpPort
	conf.Services[string(primitives.FrontendService)] = frontendConf
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The worker service runs the server's own system workflows through an
	// SDK client; it dials the frontend here.
	conf.PublicClient.HostPort = frontend.dialAddr()

	// Empty authorization config: no authorizer, no claims (a dev server on
	// loopback). Built from the config all the same so the server's own
	// defaults apply.
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("claim mapper: %w", err)
	}

	dynamic := dynamicconfig.StaticClient{
		// The default of 10 list/count calls per second is shared by the
		// UI, the API's order listing and tests polling for visibility.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	}

	return []temporal.ServerOption{
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamic),
	}, nil
}

// waitReady waits for the frontend to answer for the namespace and makes sure
// the search attributes are registered and accepted in queries.
func (s *Server) waitReady(ctx context.Context, want map[string]enums.IndexedValueType, logger *slog.Logger) error {
	var c client.Client
	err := poll(ctx, "connect to the frontend at "+s.frontendAddr, func(ctx context.Context) error {
		var err error
		c, err = client.DialContext(ctx, client.Options{
			HostPort:  s.frontendAddr,
			Namespace: s.namespace,
			Logger:    sdklog.NewStructuredLogger(logger),
		})
		return err
	})
	if err != nil {
		return err
	}
	defer c.Close()

	// On SQLite the namespace is in the file already; on PostgreSQL the
	// first start registers it here.
	err = poll(ctx, "register namespace "+s.namespace, func(ctx context.Context) error {
		_, err := temporalsetup.EnsureNamespace(ctx, c, s.namespace, namespaceRetention)
		return err
	})
	if err != nil {
		return err
	}
	return s.ensureSearchAttributes(ctx, c, want)
}

// ensureSearchAttributes adds the wanted search attributes the namespace lacks
// (a file from an older version of the app), then waits until a query naming
// all of them is accepted: the frontend validates queries against its
// namespace cache, which picks up new attributes a moment after they are
// stored.
func (s *Server) ensureSearchAttributes(ctx context.Context, c client.Client, want map[string]enums.IndexedValueType) error {
	if len(want) == 0 {
		return nil
	}
	err := poll(ctx, "add search attributes", func(ctx context.Context) error {
		_, err := temporalsetup.EnsureSearchAttributes(ctx, c, s.namespace, want)
		if errors.Is(err, temporalsetup.ErrTypeClash) {
			return stopError{err: fmt.Errorf("%w: use a new name or a new data dir", err)}
		}
		return stopIfInvalid(err)
	})
	if err != nil {
		return err
	}

	var conds []string
	for _, name := range slices.Sorted(maps.Keys(want)) {
		conds = append(conds, "`"+name+"` IS NULL")
	}
	query := strings.Join(conds, " AND ")
	// Here "invalid search attribute" is the answer we wait to see go away,
	// so every error is retried.
	return poll(ctx, "wait for search attributes", func(ctx context.Context) error {
		_, err := c.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: s.namespace,
			Query:     query,
		})
		return err
	})
}

// startUI serves the Temporal UI at e, pointed at the frontend, and waits for
// it to answer.
func (s *Server) startUI(ctx context.Context, e endpoint, logger *slog.Logger) error {
	// Checked again: the server took seconds to start since Start checked,
	// and a failed bind in the UI server ends the process.
	if err := checkFree(e.String()); err != nil {
		return err
	}
	host := e.host
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]" // ui-server joins host and port with a bare colon
	}
	ui, err := newUIServer(&uiconfig.Config{
		Host:                host,
		Port:                e.port,
		TemporalGRPCAddress: s.frontendAddr,
		EnableUI:            true,
		DefaultNamespace:    s.namespace,
		// The UI's CSRF cookie is marked Secure by default, which browsers
		// drop over plain http://127.0.0.1.
		CORS:             uiconfig.CORS{CookieInsecure: true},
		HideLogs:         true,
		DisableNewsFetch: true,
	})
	if err != nil {
		return err
	}
	s.ui = ui
	s.uiDone = make(chan struct{})
	addr := e.String()
	go func() {
		defer close(s.uiDone)
		// Start blocks until Stop. It cannot report a failed bind to us: the
		// UI server exits the process on one, which is why resolveEndpoint
		// checks the port before we get here.
		if err := ui.Start(); err != nil {
			logger.Error("Temporal UI stopped", "addr", addr, "error", err)
		}
	}()

	s.uiURL = "http://" + e.dialAddr()
	health := s.uiURL + "/healthz"
	return poll(ctx, "wait for the Temporal UI at "+s.uiURL, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", health, resp.Status)
		}
		return nil
	})
}

// newUIServer builds the UI server, turning its panics on a bad config into
// an error.
func newUIServer(cfg *uiconfig.Config) (ui *uiserver.Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("Temporal UI config: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("build Temporal UI server: %v", r)
		}
	}()
	return uiserver.NewServer(uioptions.WithConfigProvider(cfg)), nil
}

// poll calls try until it succeeds, returns a stopError, or ctx ends. Each attempt gets a few seconds so that one hung call does
// not use up the whole wait.
func poll(ctx context.Context, what string, try func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := try(attemptCtx)
		cancel()
		if err == nil {
			return nil
		}
		var stop stopError
		if errors.As(err, &stop) {
			return fmt.Errorf("%s: %w", what, stop.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: gave up after %d attempts: %w", what, attempt, err)
		case <-time.After(pollInterval):
		}
	}
}

// stopError makes poll give up at once.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// stopIfInvalid marks errors that say the request itself is wrong (a bad
// search attribute name or type) as final, as opposed to a server still
// starting.
func stopIfInvalid(err error) error {
	var invalid *serviceerror.InvalidArgument
	var denied *serviceerror.PermissionDenied
	if errors.As(err, &invalid) || errors.As(err, &denied) {
		return stopError{err: err}
	}
	return err
}
