package order

// Audit actions that more than one layer names: the store writes or reads
// them, the workflow or the API sets them. The others are written by the
// workflow alone and stay string literals at the place that records them.
const (
	// ActionOrderCreated is the audit action of an order's creation (seq 0),
	// written by the store with the order's projection row.
	ActionOrderCreated = "order.created"
	// ActionQuoteRefused is the audit action that ends a quote request whose
	// lines the ERP refused; its data is the []FieldError naming them.
	ActionQuoteRefused = "quote.refused"
)
