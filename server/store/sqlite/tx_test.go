package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store"
)

func TestWritesAreDurableSynchronousFull(t *testing.T) {
	db := openTemp(t)
	var sync, mode string
	err := db.Update(context.Background(), func(st store.Tx) error {
		if err := st.(*tx).queryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
			return err
		}
		return st.(*tx).queryRow(`PRAGMA journal_mode`).Scan(&mode)
	})
	if err != nil || sync != "2" || mode != "wal" {
		t.Fatalf("writer connection: synchronous=%s journal_mode=%s (%v), want 2 (FULL) and wal", sync, mode, err)
	}
}

// holdWriter makes the writer busy with an Update until release is closed, so
// that the Updates started meanwhile queue and commit as one group.
func holdWriter(t *testing.T, db *DB) (release chan struct{}, done chan error) {
	t.Helper()
	release, done, started := make(chan struct{}), make(chan error, 1), make(chan struct{})
	go func() {
		done <- db.Update(context.Background(), func(tx store.Tx) error {
			close(started)
			<-release
			return tx.CreateContract(store.Contract{ID: "holder", Name: "h", CreatedAt: time.Now()})
		})
	}()
	<-started
	return release, done
}

// queued waits until n more Updates are blocked handing their fn to the writer.
func queued(wg *sync.WaitGroup, n *atomic.Int64, want int64) {
	for n.Load() < want {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // from the counter to the channel send
}

func TestGroupCommitRollsBackOnlyTheFailingUpdate(t *testing.T) {
	db := openTemp(t)
	var groups []int
	var mu sync.Mutex
	db.afterCommit = func(n int) { mu.Lock(); groups = append(groups, n); mu.Unlock() }

	release, held := holdWriter(t, db)
	var wg sync.WaitGroup
	var n atomic.Int64
	errs := make([]error, 6)
	panics := make([]any, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			n.Add(1)
			errs[i] = db.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.CreateContract(store.Contract{ID: fmt.Sprintf("c%d", i), Name: "x", CreatedAt: time.Now()}); err != nil {
					return err
				}
				switch i {
				case 2:
					return errors.New("refused by the rules")
				case 4:
					panic("a bug in fn")
				}
				return nil
			})
		}()
	}
	queued(&wg, &n, 6)
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		switch i {
		case 2:
			if errs[i] == nil || errs[i].Error() != "refused by the rules" {
				t.Errorf("Update %d: %v, want its own error", i, errs[i])
			}
		case 4:
			if panics[i] != "a bug in fn" {
				t.Errorf("Update %d: panic %v, want fn's panic raised in the caller", i, panics[i])
			}
		default:
			if errs[i] != nil || panics[i] != nil {
				t.Errorf("Update %d: %v %v", i, errs[i], panics[i])
			}
		}
	}
	have := map[string]bool{}
	db.View(context.Background(), func(tx store.Tx) error {
		cs, err := tx.Contracts()
		for _, c := range cs {
			have[c.ID] = true
		}
		return err
	})
	for _, id := range []string{"holder", "c0", "c1", "c3", "c5"} {
		if !have[id] {
			t.Errorf("contract %s of a successful Update is missing", id)
		}
	}
	if have["c2"] || have["c4"] {
		t.Errorf("the failed Update's insert was committed: %v", have)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(groups) != 2 || groups[1] != 4 {
		t.Fatalf("groups committed %v, want [1 4]: the holder, then the four good Updates queued behind it in one commit", groups)
	}
}

func TestConcurrentUpdatesCommitInGroupsAndAllLand(t *testing.T) {
	db := openTemp(t)
	var commits atomic.Int64
	db.afterCommit = func(int) { commits.Add(1) }
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var before int64
			if err := db.Update(context.Background(), func(tx store.Tx) error {
				before = commits.Load() // the commits done before this fn's group
				return tx.CreateContract(store.Contract{ID: fmt.Sprintf("k%03d", i), Name: "x", CreatedAt: time.Now()})
			}); err != nil {
				t.Error(err)
			}
			// Answered only after its own group's COMMIT (with synchronous=FULL: its fsync) returned.
			if commits.Load() <= before {
				t.Errorf("Update %d answered before its group committed", i)
			}
		}()
	}
	wg.Wait()
	var got int
	db.View(context.Background(), func(tx store.Tx) error {
		cs, err := tx.Contracts()
		got = len(cs)
		return err
	})
	if got != n {
		t.Fatalf("%d contracts after %d acknowledged Updates", got, n)
	}
	if c := commits.Load(); c >= n {
		t.Fatalf("%d commits for %d Updates: no group commit", c, n)
	} else {
		t.Logf("%d Updates in %d commits", n, c)
	}
}

func TestUpdateAfterCloseAndCancelledBeforeItsTurn(t *testing.T) {
	db := openTemp(t)
	release, held := holdWriter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	ran := false
	go func() {
		res <- db.Update(ctx, func(tx store.Tx) error { ran = true; return nil })
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	close(release)
	if err := <-res; !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("cancelled Update: %v (fn ran: %v), want context.Canceled and fn not run", err, ran)
	}
	<-held
	db.Close()
	if err := db.Update(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Update after Close: %v", err)
	}
	if err := db.View(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("View after Close: %v", err)
	}
}

// TestManyViewsAtOnceOnFreshStatements is the deadlock a pool-wide statement
// cache had: every read connection held by a View waiting to prepare a
// statement, and preparing it waiting for a free connection.
func TestManyViewsAtOnceOnFreshStatements(t *testing.T) {
	db := openTemp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.View(ctx, func(st store.Tx) error {
				if _, err := st.Contracts(); err != nil {
					return err
				}
				rows, err := st.(*tx).query(fmt.Sprintf(`SELECT %d`, i%8))
				if err != nil {
					return err
				}
				return rows.Close()
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestViewRollsBackOnPanic(t *testing.T) {
	db := openTemp(t)
	for range 10 { // more than the read pool: a leaked transaction would hold a connection
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("View swallowed fn's panic")
				}
			}()
			db.View(context.Background(), func(tx store.Tx) error { tx.Contracts(); panic("bug") })
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.View(ctx, func(tx store.Tx) error { _, err := tx.Contracts(); return err }); err != nil {
		t.Fatalf("View after panics: %v", err)
	}
}
