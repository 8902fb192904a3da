package eventstore

import (
	"encoding/json"
	"reflect"

	"github.com/gantry-etc/gantry/domain"
)

// decodeInto unmarshals data into a fresh value of zero's dynamic type and
// returns it as a value of the same type (not a pointer), so that type
// switches in aggregates and projectors match the registered event type.
func decodeInto(zero domain.Event, data []byte) (domain.Event, error) {
	rt := reflect.TypeOf(zero)
	if rt.Kind() == reflect.Pointer {
		v := reflect.New(rt.Elem())
		if err := json.Unmarshal(data, v.Interface()); err != nil {
			return nil, err
		}
		return v.Interface().(domain.Event), nil
	}
	v := reflect.New(rt)
	if err := json.Unmarshal(data, v.Interface()); err != nil {
		return nil, err
	}
	return v.Elem().Interface().(domain.Event), nil
}
