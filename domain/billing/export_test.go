package billing

// ReferenceCanonical is the canonical form's definition (encoding/json), for
// tests of the fast encoder.
var ReferenceCanonical = referenceCanonical
