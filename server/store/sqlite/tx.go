package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/inkan-dev/inkan/server/store"
)

// maxGroup is the most Update calls one group commit holds.
const maxGroup = 64

// DB is a store.Store over one SQLite file.
type DB struct {
	write *sql.DB // one connection, held by the writer goroutine as wconn
	read  *sql.DB
	wconn *sql.Conn
	path  string // of the database file, for Exclusive's lock file

	wstmts  stmtCache      // prepared on wconn
	readers chan *readConn // the read connections not in use, each with its own statements

	reqs      chan *writeReq // unbuffered: a send completes when the writer takes the request
	quit      chan struct{}  // closed by Close
	stopped   chan struct{}  // closed when the writer has returned
	closeOnce sync.Once
	closeErr  error

	// afterCommit, when set (tests), is called by the writer with the size of
	// each group after its COMMIT returned and before any caller is answered.
	afterCommit func(n int)
}

var _ store.Store = (*DB)(nil)

// readers is how many read connections View uses.
const readers = 4

// readConn is one read connection with the statements prepared on it. Each
// View holds one for its transaction, so a statement is prepared on the very
// connection it runs on, never through the pool (which could wait for a
// connection held by a View waiting for the statement).
type readConn struct {
	conn  *sql.Conn
	stmts stmtCache
}

// ErrClosed is returned by Update and View after Close.
var ErrClosed = errors.New("the database is closed")

// start takes the write pool's one connection for the writer goroutine.
func start(ctx context.Context, write, read *sql.DB) (*DB, error) {
	wconn, err := write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	db := &DB{write: write, read: read, wconn: wconn,
		reqs: make(chan *writeReq), quit: make(chan struct{}), stopped: make(chan struct{})}
	db.wstmts.prepare = func(q string) (*sql.Stmt, error) { return wconn.PrepareContext(context.Background(), q) }
	db.readers = make(chan *readConn, readers)
	for range readers {
		c, err := read.Conn(ctx)
		if err != nil {
			db.closeReaders(len(db.readers))
			wconn.Close()
			return nil, err
		}
		rc := &readConn{conn: c}
		rc.stmts.prepare = func(q string) (*sql.Stmt, error) { return c.PrepareContext(context.Background(), q) }
		db.readers <- rc
	}
	go db.writer()
	return db, nil
}

// Close stops the writer (after the group in progress), then closes the
// prepared statements and both connection pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.quit)
		<-db.stopped
		db.closeErr = errors.Join(db.wstmts.close(), db.closeReaders(readers), db.wconn.Close(), db.read.Close(), db.write.Close())
	})
	return db.closeErr
}

// closeReaders closes n read connections, waiting for those a View still holds.
func (db *DB) closeReaders(n int) error {
	var errs []error
	for range n {
		rc := <-db.readers
		errs = append(errs, rc.stmts.close(), rc.conn.Close())
	}
	return errors.Join(errs...)
}

// View runs fn in a read transaction on one of the read connections (opened
// query_only), with the statements prepared on that connection. A panic in fn
// rolls the transaction back and goes on up.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) (err error) {
	select {
	case <-db.quit:
		return ErrClosed
	default:
	}
	var rc *readConn
	select {
	case rc = <-db.readers:
	case <-db.quit:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("wait for a read connection: %w", ctx.Err())
	}
	defer func() { db.readers <- rc }()
	if err := rc.stmts.exec(ctx, `BEGIN`); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	done := false
	defer func() {
		if !done {
			rc.stmts.exec(context.Background(), `ROLLBACK`)
		}
	}()
	if err := fn(&tx{ctx: ctx, prep: rc.stmts.get}); err != nil {
		return err
	}
	done = true
	if err := rc.stmts.exec(context.Background(), `COMMIT`); err != nil {
		rc.stmts.exec(context.Background(), `ROLLBACK`)
		return fmt.Errorf("end read transaction: %w", err)
	}
	return nil
}

// Update runs fn in a write transaction and returns once that transaction is
// on disk (synchronous=FULL: the WAL is synced before COMMIT returns).
//
// Group commit: one writer goroutine takes every Update waiting when it is
// free, up to maxGroup, and runs their fns one after the other in one
// transaction, each inside its own SAVEPOINT. A fn that returns an error (or
// panics) is rolled back to its savepoint alone; the others' changes stay. The
// group then commits once, with one fsync, and every caller is answered only
// after that commit: nil if its changes are on disk, the commit's error if
// not. The fns of a group run in order, each seeing the changes of those
// before it, exactly as if they had run in separate transactions one after
// the other, so the rules built on Update keep their meaning.
//
// fn's statements run without ctx's cancellation once it started (interrupting
// SQLite inside a transaction may roll back the whole group); an Update whose
// ctx is done before its turn is skipped and answers ctx's error. Once handed
// to the writer, Update waits for the group's end even if ctx is cancelled, so
// it never reports a failure for changes that were committed. A panic in fn is
// raised again in the caller of Update after the rollback.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case db.reqs <- r:
	case <-db.quit:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("wait for the database writer: %w", ctx.Err())
	}
	<-r.done
	if r.panicked {
		panic(r.panicVal)
	}
	return r.err
}

type writeReq struct {
	ctx      context.Context
	fn       func(store.Tx) error
	done     chan struct{}
	err      error
	panicked bool
	panicVal any
}

func (db *DB) writer() {
	defer close(db.stopped)
	for {
		var first *writeReq
		select {
		case first = <-db.reqs:
		case <-db.quit:
			return
		}
		group := []*writeReq{first}
	more:
		for len(group) < maxGroup {
			select {
			case r := <-db.reqs:
				group = append(group, r)
			default:
				break more
			}
		}
		db.commitGroup(group)
	}
}

// commitGroup runs group's fns in one transaction, each in a savepoint, commits
// once and answers every caller.
func (db *DB) commitGroup(group []*writeReq) {
	ctx := context.Background()
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	if err := db.wstmts.exec(ctx, `BEGIN IMMEDIATE`); err != nil {
		for _, r := range group {
			r.err = fmt.Errorf("begin transaction: %w", err)
		}
		return
	}
	var applied []*writeReq
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("before the write transaction: %w", err)
			continue
		}
		if err := db.runInSavepoint(r); err != nil {
			// The transaction is in an unknown state: nothing of the group
			// is committed.
			db.wstmts.exec(ctx, `ROLLBACK`)
			for _, o := range append(applied, group[i:]...) {
				if !o.panicked {
					o.err = fmt.Errorf("the write transaction failed: %w", err)
				}
			}
			return
		}
		if r.err == nil && !r.panicked {
			applied = append(applied, r)
		}
	}
	if len(applied) == 0 {
		if err := db.wstmts.exec(ctx, `ROLLBACK`); err != nil {
			db.wstmts.exec(ctx, `ROLLBACK`)
		}
		return
	}
	if err := db.wstmts.exec(ctx, `COMMIT`); err != nil {
		db.wstmts.exec(ctx, `ROLLBACK`)
		for _, r := range applied {
			r.err = fmt.Errorf("commit: %w", err)
		}
		return
	}
	if db.afterCommit != nil {
		db.afterCommit(len(applied))
	}
}

// runInSavepoint runs r.fn inside a savepoint, rolled back to when fn fails or
// panics; fn's outcome goes into r. It returns an error only when the
// savepoint itself could not be made, released or rolled back to.
func (db *DB) runInSavepoint(r *writeReq) error {
	ctx := context.Background()
	if err := db.wstmts.exec(ctx, `SAVEPOINT inkan_update`); err != nil {
		return err
	}
	t := &tx{ctx: context.WithoutCancel(r.ctx), prep: db.wstmts.get}
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.panicked, r.panicVal = true, p
			}
		}()
		r.err = r.fn(t)
	}()
	if r.err != nil || r.panicked {
		if err := db.wstmts.exec(ctx, `ROLLBACK TO inkan_update`); err != nil {
			return fmt.Errorf("roll back to savepoint: %w", err)
		}
	}
	if err := db.wstmts.exec(ctx, `RELEASE inkan_update`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// stmtCache prepares each query text once.
type stmtCache struct {
	prepare func(string) (*sql.Stmt, error)
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
}

func (c *stmtCache) get(q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st, nil
	}
	st, err := c.prepare(q)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[q] = st
	return st, nil
}

// exec runs q, a statement without arguments or rows such as BEGIN or
// RELEASE, through its prepared statement: the transaction control of every
// View and Update, which would otherwise be parsed again each time.
func (c *stmtCache) exec(ctx context.Context, q string) error {
	st, err := c.get(q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx)
	return err
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}

// tx runs a transaction's statements through prepared statements.
type tx struct {
	ctx  context.Context
	prep func(query string) (*sql.Stmt, error)
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.prep(query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(t.ctx, args...)
	if err != nil && isUniqueViolation(err) {
		return nil, store.ErrConflict
	}
	return res, err
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.prep(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

// row is what queryRow returns: *sql.Row, or the error of preparing it.
type row interface{ Scan(...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (t *tx) queryRow(query string, args ...any) row {
	st, err := t.prep(query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(t.ctx, args...)
}
