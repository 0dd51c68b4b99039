// Package jsonapi holds the JSON plumbing every simulator's HTTP side shares:
// writing answers and error bodies, decoding a bounded request body, and the
// answers for unknown routes and methods.
//
// The simulators stand in for other companies' systems, and orderflow's
// clients classify their answers by status and error code; writing those
// answers in one place keeps the simulators' contracts alike byte for byte.
// Every answer is JSON with Content-Type application/json, and every non-2xx
// answer is an [Error]: {"error": code, "field": …, "detail": …}, the last
// two omitted when empty.
package jsonapi
