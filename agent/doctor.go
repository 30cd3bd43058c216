package agent

// The self-check (動作環境チェック): every step a pickup and a browser login
// take on this PC, run with throw-away keys, each reported with the OS call and
// what it answered, so that the bank's help desk can read what a user's own PC
// cannot do. `inkanctl doctor` and the GUI's 設定 → 動作環境チェック show it.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/certstore/nssdb"
	"github.com/inkan-dev/inkan/wire"
)

// ErrSelfCheckFailed is what a caller reports when a [DoctorReport] is not OK;
// it counts as a store failure ([CategoryStore]).
var ErrSelfCheckFailed = errors.New("a step of the self-check (動作環境チェック) failed")

// DoctorStep is one line of the self-check's report.
type DoctorStep struct {
	Name    string // what was checked
	Call    string // the OS or HTTP call that checked it
	OK      bool   // 成功
	Skipped bool   // not run: a step it needs failed
	Detail  string // the call's answer (for a failure, the status it returned)
}

// DoctorReport is the self-check's result.
type DoctorReport struct {
	OS      string // runtime.GOOS/GOARCH
	Store   string // the store's kind
	KeyType wire.KeyType
	Steps   []DoctorStep
}

// OK reports whether every step that ran succeeded.
func (r *DoctorReport) OK() bool {
	return !slices.ContainsFunc(r.Steps, func(s DoctorStep) bool { return !s.OK && !s.Skipped })
}

// Text is the report as plain text, one step a line, for the help desk.
func (r *DoctorReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Inkan 動作環境チェック (%s, 証明書ストア %s, 鍵の種類 %s)\n", r.OS, r.Store, r.KeyType)
	for i, s := range r.Steps {
		mark := "成功"
		switch {
		case s.Skipped:
			mark = "未実施"
		case !s.OK:
			mark = "失敗"
		}
		fmt.Fprintf(&b, "%2d. [%s] %s", i+1, mark, s.Name)
		if s.Call != "" {
			fmt.Fprintf(&b, " — %s", s.Call)
		}
		if s.Detail != "" {
			fmt.Fprintf(&b, ": %s", s.Detail)
		}
		b.WriteByte('\n')
	}
	if r.OK() {
		b.WriteString("結果: すべての手順が成功しました。\n")
	} else {
		b.WriteString("結果: 失敗した手順があります。この報告をコピーして当金庫にお知らせください。\n")
	}
	return b.String()
}

// Doctor runs the self-check with the key type the bank asks for (ECDSA P-256
// when the bank cannot be asked, which is itself a failed step).
func (a *Agent) Doctor(ctx context.Context) *DoctorReport {
	r := &DoctorReport{OS: runtime.GOOS + "/" + runtime.GOARCH, Store: a.store.Kind(), KeyType: wire.KeyECDSAP256}
	add := func(name, call string, err error) bool {
		s := DoctorStep{Name: name, Call: call, OK: err == nil}
		if err != nil {
			s.Detail = err.Error()
		}
		r.Steps = append(r.Steps, s)
		return err == nil
	}

	var attrs wire.CSRAttrs
	c, err := a.client(ctx, nil)
	if err == nil {
		attrs, err = csrAttrs(ctx, c, "", "")
	}
	if add("当金庫のサーバーに鍵の種類を問い合わせる", "GET "+pathCSRAttrs, err) {
		r.KeyType = attrs.KeyType
	}
	alg := certstore.Algorithm(r.KeyType)

	if sc, ok := a.store.(certstore.SelfChecker); ok {
		for _, st := range sc.SelfCheck(ctx, alg) {
			s := DoctorStep{Name: st.Name, Call: st.Call, OK: st.Err == nil && !st.Skipped, Skipped: st.Skipped}
			if st.Err != nil {
				s.Detail = st.Err.Error()
			}
			r.Steps = append(r.Steps, s)
		}
	} else {
		a.checkStore(ctx, alg, add)
	}

	if a.browser != nil {
		a.checkBrowserCopy(ctx, add)
	}
	return r
}

// checkStore is the self-check of a store without its own: a key of the
// bank's type made, used and discarded through the Store interface (for the
// keyring store this is the Secret Service at work).
func (a *Agent) checkStore(ctx context.Context, alg certstore.Algorithm, add func(string, string, error) bool) {
	key, err := a.store.GenerateKey(ctx, certstore.KeyOptions{Algorithm: alg})
	if !add(fmt.Sprintf("%s の鍵を作って保存する", alg), a.store.Kind()+": GenerateKey", err) {
		return
	}
	digest := sha256.Sum256([]byte("Inkan 動作環境チェック"))
	_, err = key.Signer().Sign(rand.Reader, digest[:], crypto.SHA256)
	add("秘密鍵で署名する", a.store.Kind()+": Sign", err)
	add("作った鍵を削除する", a.store.Kind()+": Discard", key.Discard(ctx))
}

// checkBrowserCopy checks the browser's view on Linux: the NSS database opens,
// and every identity of this bank is in it under its label.
func (a *Agent) checkBrowserCopy(ctx context.Context, add func(string, string, error) bool) {
	db := a.browser.db
	if !add("ブラウザー用 NSS データベースを開く ("+db.Dir+")", "certutil -N / -L", db.Ensure(ctx)) {
		return
	}
	entries, err := db.List(ctx)
	if !add("ブラウザー用 NSS データベースの一覧を読む", "certutil -L", err) {
		return
	}
	ids, err := a.Identities(ctx)
	if err != nil {
		add("ブラウザーから見える電子証明書", "certutil -L", err)
		return
	}
	var missing []string
	for _, id := range ids {
		if !slices.ContainsFunc(entries, func(e nssdb.Entry) bool { return e.Nickname == id.Label }) {
			missing = append(missing, id.Label)
		}
	}
	if len(missing) > 0 {
		err = errors.New("ブラウザーのデータベースにない電子証明書: " + strings.Join(missing, ", "))
	}
	add(fmt.Sprintf("ブラウザーから見える電子証明書 (%d 件)", len(ids)), "certutil -L", err)
}
