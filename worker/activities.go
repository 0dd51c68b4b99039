package worker

import (
	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/bank"
	"github.com/orderflow/orderflow/internal/carrier"
	"github.com/orderflow/orderflow/internal/config"
	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/links"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/metrics"
	"github.com/orderflow/orderflow/internal/store"
)

// NewActivities builds the activities with one client per outside system, each
// behind its own circuit breaker, from the configuration.
func NewActivities(cfg config.Config, st *store.Store, m *metrics.Metrics) *activities.Activities {
	settings := downstream.BreakerSettings{ConsecutiveFailures: cfg.BreakerFailures, OpenFor: cfg.BreakerOpenFor}
	breaker := func(system string) *downstream.Breaker {
		if m == nil {
			return downstream.NewBreaker(system, settings, nil)
		}
		m.BreakerRegistered(system)
		return downstream.NewBreaker(system, settings, m.BreakerChanged)
	}
	acts := &activities.Activities{
		Store:   st,
		ERP:     erp.New(cfg.ERPURL, breaker("erp")),
		Carrier: carrier.New(cfg.CarrierURL, breaker("carrier")),
		Bank:    bank.New(cfg.BankURL, breaker("bank")),
		Mail: mail.NewSender(mail.Config{Host: cfg.SMTPHost, Port: cfg.SMTPPort, From: cfg.MailFrom,
			Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, TLS: cfg.SMTPTLS}, breaker("mail")),
		PublicURL: cfg.PublicURL,
		Seller: document.Party{Name: cfg.Seller.Name, VATID: cfg.Seller.VATID, Street: cfg.Seller.Street,
			City: cfg.Seller.City, Postcode: cfg.Seller.Postcode, Country: cfg.Seller.Country,
			Email: cfg.Seller.Email, IBAN: cfg.Seller.IBAN},
		CSEmail:            cfg.CSEmail,
		FinanceEmail:       cfg.FinanceEmail,
		SalesManagersEmail: cfg.SalesManagersEmail,
		Links:              linkSigner(cfg),
		CustomerSettings:   cfg.Customer,
	}
	if m != nil { // not a typed nil in the interface
		acts.Transitions = m
	}
	return acts
}

// linkSigner signs buyer mails' links with ORDERFLOW_LINK_SECRET (which
// config.Load checked is long enough).
func linkSigner(cfg config.Config) *links.Signer {
	s, err := links.New([]byte(cfg.LinkSecret))
	if err != nil {
		return nil // a config not from config.Load (tests): mails go without links
	}
	return s
}
