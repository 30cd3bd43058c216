// Package e2e holds the end-to-end tests of Inkan: the real server over HTTPS on
// 127.0.0.1 with its real SQLite database, and the agent with a memory
// certificate store, walking every row of the certificate life cycle from the
// agent's side with a clock the tests move. It has no code outside its tests.
package e2e
