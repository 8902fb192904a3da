package card_test

import (
	"testing"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func TestVehicleClaim(t *testing.T) {
	claimed := func(c, prev int64) card.VehicleClaimed {
		e := card.VehicleClaimed{Vehicle: vehicle, Card: num(c)}
		if prev != 0 {
			e.Previous = num(prev)
		}
		return e
	}
	released := card.VehicleReleased{Vehicle: vehicle, Card: num(2)}
	tests := []struct {
		name    string
		given   []domain.Event
		when    func(v *card.VehicleClaim) ([]domain.Event, error)
		then    []domain.Event
		wantErr error
	}{
		{name: "free_vehicle_is_claimed",
			when: func(v *card.VehicleClaim) ([]domain.Event, error) { return v.Claim(vehicle, num(1)) },
			then: []domain.Event{claimed(1, 0)}},
		{name: "second_card_for_vehicle_conflicts", given: []domain.Event{claimed(1, 0)},
			when:    func(v *card.VehicleClaim) ([]domain.Event, error) { return v.Claim(vehicle, num(2)) },
			wantErr: card.ErrCardInUse},
		{name: "successor_takes_over", given: []domain.Event{claimed(1, 0)},
			when: func(v *card.VehicleClaim) ([]domain.Event, error) { return v.Succeed(vehicle, num(1), num(2)) },
			then: []domain.Event{claimed(2, 1)}},
		{name: "succession_of_a_card_no_longer_in_use_conflicts", given: []domain.Event{claimed(1, 0), claimed(2, 1)},
			when:    func(v *card.VehicleClaim) ([]domain.Event, error) { return v.Succeed(vehicle, num(1), num(3)) },
			wantErr: card.ErrCardNotInUse},
		{name: "release_frees_the_vehicle", given: []domain.Event{claimed(1, 0), claimed(2, 1)},
			when: func(v *card.VehicleClaim) ([]domain.Event, error) { return v.Release(vehicle, num(2)), nil },
			then: []domain.Event{released}},
		{name: "release_twice_changes_nothing", given: []domain.Event{claimed(1, 0), claimed(2, 1), released},
			when: func(v *card.VehicleClaim) ([]domain.Event, error) { return v.Release(vehicle, num(2)), nil }},
		{name: "released_vehicle_is_claimed_again", given: []domain.Event{claimed(1, 0), claimed(2, 1), released},
			when: func(v *card.VehicleClaim) ([]domain.Event, error) { return v.Claim(vehicle, num(5)) },
			then: []domain.Event{claimed(5, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v card.VehicleClaim
			for _, e := range tt.given {
				v.Apply(e)
			}
			got, err := tt.when(&v)
			domaintest.Then(t, got, err, tt.then, tt.wantErr)
		})
	}
}
