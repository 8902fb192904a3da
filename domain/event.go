package domain

// Event is a fact an aggregate decided. EventType is the stable name stored on
// disk ("setup.obu_recorded"); it is a constant in the aggregate's package and is
// never derived from the Go type name, so renaming a type changes nothing stored.
type Event interface {
	EventType() string
}
