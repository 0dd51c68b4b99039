package order

// Role is what a caller may do, carried in its bearer token.
type Role string

// The roles of PRODUCT.md's "who uses it" table.
const (
	// RoleStorefront is the B2B web shop or sales tool: starts quotes for any customer.
	RoleStorefront Role = "storefront"
	// RoleBuyer is a purchaser at a customer: accepts, revises, rejects, cancels its own orders.
	RoleBuyer Role = "buyer"
	// RoleBuyerApprover approves orders above the customer's purchasing limit.
	RoleBuyerApprover Role = "buyer_approver"
	// RoleSalesRep is the seller's account manager: requests quotes for any
	// customer, with a discount within their authority.
	RoleSalesRep Role = "sales_rep"
	// RoleSalesManager is the seller-side approver of discounts and large
	// orders; a manager may also request discounted quotes like a rep.
	RoleSalesManager Role = "sales_manager"
	// RoleSalesAdmin maintains the customers' terms (the catalog).
	RoleSalesAdmin Role = "sales_admin"
	// RoleFinance decides credit holds and allocates unmatched payments.
	RoleFinance Role = "finance"
	// RoleCS runs manual recovery and compensation steps.
	RoleCS Role = "cs"
)

// Roles lists every role.
var Roles = []Role{RoleStorefront, RoleBuyer, RoleBuyerApprover, RoleSalesRep, RoleSalesManager, RoleSalesAdmin, RoleFinance, RoleCS}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// CustomerScoped reports whether callers of this role act for one customer
// only and so must carry a customer id.
func (r Role) CustomerScoped() bool { return r == RoleBuyer || r == RoleBuyerApprover }

// MayDiscount reports whether callers of this role may ask for a discount
// on a quote: the seller's sales people only. A buyer or the storefront
// asks for a quote; what it costs is the seller's to decide.
func (r Role) MayDiscount() bool { return r == RoleSalesRep || r == RoleSalesManager }

// Staff reports whether callers of this role work for the seller and may
// see the seller's internal view of an order (failures, credit exposure,
// approvers' comments). The storefront is the seller's system but shows
// what it gets to buyers, so it gets the buyer's view.
func (r Role) Staff() bool {
	switch r {
	case RoleSalesRep, RoleSalesManager, RoleSalesAdmin, RoleFinance, RoleCS:
		return true
	}
	return false
}

// Actor is who did something: the token's subject, role and (for buyer roles)
// customer. Every manual action and audit entry names one.
type Actor struct {
	Subject    string `json:"subject"`
	Role       Role   `json:"role"`
	CustomerID string `json:"customer_id,omitempty"`
}

// System is the actor of what the workflow does on its own.
var System = Actor{Subject: "orderflow", Role: "system"}
