// Package money holds the value types that billing and cards share: integer
// yen (Yen), a calendar month in Japan time (YearMonth), and the qualified
// invoice issuer registration number (RegistrationNumber, "T" + 13 digits).
//
// All values are immutable, validated by their constructors, and encode to
// stable text forms: Yen as a JSON number, YearMonth as "2026-11",
// RegistrationNumber as "T7000012050002".
package money
