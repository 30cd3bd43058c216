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
	Name    string // what was checked, in Japanese
	NameEn  string `json:",omitempty"` // the same in English
	Call    string // the OS or HTTP call that checked it
	OK      bool   // 成功
	Skipped bool   // not run: a step it needs failed
	Detail  string // the call's answer (for a failure, the status it returned)
	// DetailEn is Detail in English where Detail is the agent's Japanese;
	// empty where Detail is the call's own answer, the same in both.
	DetailEn string `json:",omitempty"`
}

// in is s's name and detail in lang ("en" or Japanese).
func (s DoctorStep) in(lang string) (name, detail string) {
	name, detail = s.Name, s.Detail
	if lang == "en" {
		if s.NameEn != "" {
			name = s.NameEn
		}
		if s.DetailEn != "" {
			detail = s.DetailEn
		}
	}
	return name, detail
}

// stepError is a failure of a step that the agent words itself, in both
// languages; Error is the Japanese.
type stepError text

func (e stepError) Error() string { return e.ja }

// DoctorReport is the self-check's result: each configured bank's server
// (Banks), then this PC's certificate store and browser copy (Steps).
type DoctorReport struct {
	OS    string // runtime.GOOS/GOARCH
	Store string // the store's kind
	// KeyType is the key type the store's steps ran with: the first bank's.
	// Banks asking for other types get the store's steps again, each step's
	// name starting with its type.
	KeyType wire.KeyType
	Banks   []BankCheck
	Steps   []DoctorStep
}

// OK reports whether every step that ran succeeded, the banks' included.
func (r *DoctorReport) OK() bool {
	return !slices.ContainsFunc(r.Banks, func(b BankCheck) bool { return !b.OK() }) && stepsOK(r.Steps)
}

func stepsOK(steps []DoctorStep) bool {
	return !slices.ContainsFunc(steps, func(s DoctorStep) bool { return !s.OK && !s.Skipped })
}

// Text is the report as plain text in lang ("en", else Japanese), one step a
// line, numbered through, under a heading for each bank and one for this PC,
// for the help desk.
func (r *DoctorReport) Text(lang string) string {
	say := func(t text) string {
		if lang == "en" {
			return t.en
		}
		return t.ja
	}
	var b strings.Builder
	fmt.Fprintf(&b, say(text{"Inkan 動作環境チェック (%s, 証明書ストア %s, 鍵の種類 %s)\n", "Inkan self-check (%s, certificate store %s, key type %s)\n"}), r.OS, r.Store, r.KeyType)
	ok, failed := say(text{"成功", "OK"}), say(text{"失敗", "FAILED"})
	n := 0
	write := func(steps []DoctorStep) {
		for _, s := range steps {
			n++
			mark := ok
			switch {
			case s.Skipped:
				mark = say(text{"未実施", "skipped"})
			case !s.OK:
				mark = failed
			}
			name, detail := s.in(lang)
			fmt.Fprintf(&b, "%2d. [%s] %s", n, mark, name)
			if s.Call != "" {
				fmt.Fprintf(&b, " — %s", s.Call)
			}
			if detail != "" {
				fmt.Fprintf(&b, ": %s", detail)
			}
			b.WriteByte('\n')
		}
	}
	for _, bank := range r.Banks {
		mark := ok
		if !bank.OK() {
			mark = failed
		}
		fmt.Fprintf(&b, say(text{"■ 金融機関 %s（%s） %s [%s]\n", "■ Bank %s (%s) %s [%s]\n"}), bank.BankName, bank.BankCode, bank.ServerURL, mark)
		write(bank.Steps)
	}
	if len(r.Banks) > 0 {
		b.WriteString(say(text{"■ この PC\n", "■ This PC\n"}))
	}
	write(r.Steps)
	if r.OK() {
		b.WriteString(say(text{"結果：すべての手順が成功しました。\n", "Result: every step succeeded.\n"}))
	} else {
		b.WriteString(say(text{"結果：失敗した手順があります。この報告をコピーして当金庫にお知らせください。\n", "Result: a step failed. Copy this report and send it to the bank.\n"}))
	}
	return b.String()
}

// Doctor runs the self-check: the bank's server ([Agent.CheckBank]), then the
// store with the key type the bank asks for (ECDSA P-256 when the bank cannot
// be asked, which is itself a failed step), then the browser copy.
func (a *Agent) Doctor(ctx context.Context) *DoctorReport {
	bank := a.CheckBank(ctx)
	r := &DoctorReport{OS: runtime.GOOS + "/" + runtime.GOARCH, Store: a.store.Kind(), KeyType: bank.KeyType, Banks: []BankCheck{bank}}
	r.Steps = a.checkPC(ctx, bank.KeyType, false)
	if a.browser != nil {
		a.checkBrowserCopy(ctx, stepAdder(&r.Steps, ""))
	}
	return r
}

// stepAdder returns the add function of the checks: it appends a step to
// steps, its name after prefix, and says whether it succeeded.
func stepAdder(steps *[]DoctorStep, prefix string) func(name text, call string, err error) bool {
	return func(name text, call string, err error) bool {
		*steps = append(*steps, newStep(prefix, name, call, err))
		return err == nil
	}
}

// newStep is the step name (after prefix) that call checked, with err's
// answer; a stepError gives its detail in both languages.
func newStep(prefix string, name text, call string, err error) DoctorStep {
	s := DoctorStep{Name: prefix + name.ja, NameEn: prefix + name.en, Call: call, OK: err == nil}
	if err != nil {
		s.Detail = err.Error()
		var se stepError
		if errors.As(err, &se) {
			s.DetailEn = se.en
		}
	}
	return s
}

// checkPC is the store's part of the self-check for keys of type kt. With
// tagged, each step that does not name the key type says it first.
func (a *Agent) checkPC(ctx context.Context, kt wire.KeyType, tagged bool) []DoctorStep {
	var steps []DoctorStep
	alg := certstore.Algorithm(kt)
	if sc, ok := a.store.(certstore.SelfChecker); ok {
		for _, st := range sc.SelfCheck(ctx, alg) {
			s := DoctorStep{Name: st.Name, NameEn: st.NameEn, Call: st.Call, OK: st.Err == nil && !st.Skipped, Skipped: st.Skipped}
			if st.Err != nil {
				s.Detail = st.Err.Error()
			}
			steps = append(steps, s)
		}
	} else {
		a.checkStore(ctx, alg, stepAdder(&steps, ""))
	}
	for i := range steps {
		if tagged && !strings.Contains(steps[i].Name, string(kt)) {
			steps[i].Name = string(kt) + ": " + steps[i].Name
			if steps[i].NameEn != "" {
				steps[i].NameEn = string(kt) + ": " + steps[i].NameEn
			}
		}
	}
	return steps
}

// checkStore is the self-check of a store without its own: a key of the
// bank's type made, used and discarded through the Store interface (for the
// keyring store this is the Secret Service at work).
func (a *Agent) checkStore(ctx context.Context, alg certstore.Algorithm, add func(text, string, error) bool) {
	key, err := a.store.GenerateKey(ctx, certstore.KeyOptions{Algorithm: alg})
	if !add(text{fmt.Sprintf("%s の鍵を作って保存する", alg), fmt.Sprintf("Make and save a key of type %s", alg)}, a.store.Kind()+": GenerateKey", err) {
		return
	}
	digest := sha256.Sum256([]byte("Inkan 動作環境チェック"))
	_, err = key.Signer().Sign(rand.Reader, digest[:], crypto.SHA256)
	add(text{"秘密鍵で署名する", "Sign with the private key"}, a.store.Kind()+": Sign", err)
	add(text{"作った鍵を削除する", "Delete the key made"}, a.store.Kind()+": Discard", key.Discard(ctx))
}

// checkBrowserCopy checks the browser's view on Linux: the NSS database opens,
// and every identity of this bank is in it under its label.
func (a *Agent) checkBrowserCopy(ctx context.Context, add func(text, string, error) bool) {
	db := a.browser.db
	if !add(text{"ブラウザー用 NSS データベースを開く (" + db.Dir + ")", "Open the browsers' NSS database (" + db.Dir + ")"}, "certutil -N / -L", db.Ensure(ctx)) {
		return
	}
	entries, err := db.List(ctx)
	if !add(text{"ブラウザー用 NSS データベースの一覧を読む", "List the browsers' NSS database"}, "certutil -L", err) {
		return
	}
	ids, err := a.Identities(ctx)
	visible := text{"ブラウザーから見える電子証明書", "Certificates the browsers see"}
	if err != nil {
		add(visible, "certutil -L", err)
		return
	}
	var missing []string
	for _, id := range ids {
		if !slices.ContainsFunc(entries, func(e nssdb.Entry) bool { return e.Nickname == id.Label }) {
			missing = append(missing, id.Label)
		}
	}
	if len(missing) > 0 {
		err = stepError{"ブラウザーのデータベースにない電子証明書：" + strings.Join(missing, ", "), "certificates missing from the browsers' database: " + strings.Join(missing, ", ")}
	}
	add(text{fmt.Sprintf("%s (%d 件)", visible.ja, len(ids)), fmt.Sprintf("%s (%d)", visible.en, len(ids))}, "certutil -L", err)
}
