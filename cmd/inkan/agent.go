package main

import (
	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/ui"
)

// The window drives the real agent through ui.Backend, and its tray renews silently.
var (
	_ ui.Backend     = (*agent.Agent)(nil)
	_ ui.AutoRenewer = (*agent.Agent)(nil)
)

// openAgent opens the agent for the bank's configuration file and for every
// bank configured beside it (banks/<code>.json, as inkanctl bank add writes),
// keeping certificates in store, or in the configuration's store, or the OS
// default. tune applies 設定's choices (the browser copy) to each bank's configuration.
func openAgent(configPath, store string, tune func(*agent.Config)) (ui.Backend, error) {
	cfgs, err := agent.LoadBanks(ui.BankDir(configPath), configPath)
	if err != nil {
		return nil, err
	}
	if len(cfgs) == 0 {
		// Not there: say so as for the one configuration file.
		if _, err := agent.LoadConfig(configPath); err != nil {
			return nil, err
		}
		return nil, &agent.ConfigError{Problem: "no bank is configured", Fix: "choose the configuration file your bank sent in 設定"}
	}
	kind := store
	if kind == "" {
		kind = cfgs[0].Store
	}
	if kind == "" {
		kind = certstore.DefaultKind()
	}
	s, err := certstore.Open(kind)
	if err != nil {
		return nil, err
	}
	for i := range cfgs {
		cfgs[i].Store = kind
		tune(&cfgs[i])
	}
	if len(cfgs) == 1 {
		return agent.New(cfgs[0], s, agent.Options{})
	}
	b, err := agent.NewBanks(cfgs, s, agent.Options{})
	if err != nil {
		return nil, err
	}
	return newBanksBackend(b), nil
}
