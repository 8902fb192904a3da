package app

// features lists the business areas wired into Gantry. Add one line per
// feature; each feature's own file in this package builds it from deps.
func features(d Deps) ([]Feature, error) {
	var out []Feature
	for _, build := range []func(Deps) (Feature, error){
		newSetupFeature,   // setup: applications, setups, certificates (setup.go)
		newCardsFeature,   // corporate ETC cards and billing (cards.go)
		newAuditFeature,   // auditors' history as of any date (audit.go)
		newStationFeature, // store station: staff IC cards, setup cards, JPKI (station.go)
	} {
		f, err := build(d)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
