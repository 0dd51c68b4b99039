package pgtest

import "net/url"

// dbURL swaps the database name of a postgres:// URL.
func dbURL(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}
