package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

// The self-check with several banks checks each bank's server on its own:
// two real banks (one asking for RSA keys) pass; a bank configured with one
// bank's root but pointed at the other bank's server fails at TLS, naming the
// issuer it met; a bank whose server is down fails to connect and skips the
// rest. The store is checked once for each key type asked for.
func TestDoctorChecksEveryBankOnItsOwn(t *testing.T) {
	clk := &clock{t: time.Now().Truncate(time.Second)}
	inkan := startBankAs(t, "1376", "いんかん信用金庫", clk, nil)
	sakura := startBankAs(t, "2005", "さくら信用金庫", clk, func(p *server.PolicyConfig) { p.KeyType = wire.KeyRSA2048 })

	misled := inkan.cfg
	misled.BankCode, misled.BankName, misled.ServerURL = "0001", "つばめ信用金庫", sakura.cfg.ServerURL
	down := inkan.cfg
	down.BankCode, down.BankName, down.ServerURL = "0002", "かもめ信用金庫", "https://127.0.0.1:1"
	pc := twoBanksPC(t, memStore(t), clk, inkan, sakura, &bank{cfg: misled}, &bank{cfg: down})

	r := pc.Doctor(t.Context())
	text := r.Text("ja")
	t.Logf("\n%s", text)
	if r.OK() || len(r.Banks) != 4 {
		t.Fatalf("report of %d banks, OK %v:\n%s", len(r.Banks), r.OK(), text)
	}
	byCode := map[string]int{}
	for i, c := range r.Banks {
		byCode[c.BankCode] = i
	}
	for _, code := range []string{"1376", "2005"} {
		c := r.Banks[byCode[code]]
		if !c.OK() || len(c.Steps) != 4 {
			t.Errorf("bank %s: OK %v, %d steps:\n%s", code, c.OK(), len(c.Steps), text)
		}
	}
	if kt := r.Banks[byCode["2005"]].KeyType; kt != wire.KeyRSA2048 {
		t.Errorf("さくら asks for %s, want rsa-2048", kt)
	}

	m := r.Banks[byCode["0001"]]
	if !m.Steps[0].OK || m.Steps[1].OK || !strings.Contains(m.Steps[1].Detail, "さくら信用金庫") || !m.Steps[3].Skipped {
		t.Errorf("a bank pointed at another bank's server:\n%s", text)
	}
	d := r.Banks[byCode["0002"]]
	if d.Steps[0].OK || !d.Steps[1].Skipped || !d.Steps[2].Skipped || !d.Steps[3].Skipped {
		t.Errorf("a bank whose server is down:\n%s", text)
	}

	for _, want := range []string{
		"■ 金融機関 いんかん信用金庫（1376）", "■ 金融機関 さくら信用金庫（2005）", "■ 金融機関 かもめ信用金庫（0002）", "■ この PC",
		"[成功] ecdsa-p256 の鍵を作って保存する", "[成功] rsa-2048 の鍵を作って保存する",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
