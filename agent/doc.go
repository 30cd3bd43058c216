// Package agent is what the Inkan desktop agent does for the people at a company
// who log in to their bank's corporate internet banking with a certificate
// (電子証明書方式): it picks up (取得) a certificate the bank or the company's admin
// issued, keeps it in a [certstore.Store], offers the right certificate at login,
// warns before expiry, renews (更新) it, backs it up and restores it, and runs the
// admin's user and certificate management.
//
// Both front ends use it: the Fyne GUI (cmd/inkan) and the scripting CLI
// (cmd/inkanctl). They differ only in how they show what the agent returns.
//
// # Talking to the bank
//
// The agent speaks to the bank's server over HTTPS only, with the wire types and
// nothing else from the server side. Certificates are picked up and renewed over
// EST (RFC 7030); login and administration are JSON under /api/v1. The agent trusts
// only the CA in its [Config] (or the CA whose fingerprint it holds), never the
// system roots. For a certificate login the TLS client key is used through the
// store's [crypto.Signer]: the private key never leaves the store.
//
// # Rules
//
// The server decides every life-cycle rule (pickup window, renewal window,
// revocation, certificate mode). The agent only labels what it holds locally, so a
// person sees what to expect before asking: [State] and [Warning] come from the
// certificate's dates, the bank's renewal window in [Config] and what the server said
// the last time the certificate was used.
//
// # Day boundaries
//
// The agent draws every line where the server does: a certificate is valid from
// notBefore through notAfter, both included (RFC 5280 §4.1.2.5), so it is expired
// only after notAfter; the renewal window is inclusive at both ends, from
// notAfter−RenewBeforeDays through notAfter+RenewAfterDays; and a day count is of
// whole 24-hour periods (DaysLeft is 0 at notAfter, -1 just after it).
//
// # Errors
//
// Every refusal from the server is an [*Error] carrying its [wire.Code]; use
// [Code] or errors.As. [Message] turns any error the agent returns into a sentence
// in Japanese or English that says what happened and what to do; [Classify] says
// what kind of failure it was (refused, network, store, configuration, input).
//
// # What it is not
//
// It has no GUI code (no Fyne), no rules of its own beyond the labels above, and no
// storage of keys: keys live in the certstore.
package agent
