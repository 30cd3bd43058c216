package main

import (
	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/ui"
)

// The window drives the real agent through ui.Backend.
var _ ui.Backend = (*agent.Agent)(nil)

// openAgent opens the agent for the bank's configuration file, keeping
// certificates in store, or in the configuration's store, or the OS default.
func openAgent(configPath, store string) (ui.Backend, error) {
	cfg, err := agent.LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	if store != "" {
		cfg.Store = store
	}
	if cfg.Store == "" {
		cfg.Store = certstore.DefaultKind()
	}
	s, err := certstore.Open(cfg.Store)
	if err != nil {
		return nil, err
	}
	return agent.New(cfg, s, agent.Options{})
}
