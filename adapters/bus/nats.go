package bus

import (
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	nc "github.com/nats-io/nats.go"
)

// natsBackend publishes to and subscribes from NATS JetStream. Publishing sets
// Nats-Msg-Id to the stable message ID, so a re-publish after a crash (the
// outbox checkpoint did not commit) is dropped by JetStream's de-duplication.
type natsBackend struct {
	url    string
	logger watermill.LoggerAdapter

	mu  sync.Mutex
	pub message.Publisher
}

func (n *natsBackend) js(durable string) wnats.JetStreamConfig {
	return wnats.JetStreamConfig{
		AutoProvision:    true,
		TrackMsgId:       true,
		DurablePrefix:    durable,
		SubscribeOptions: []nc.SubOpt{nc.DeliverAll(), nc.AckExplicit()},
	}
}

func (n *natsBackend) publisher() (message.Publisher, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pub != nil {
		return n.pub, nil
	}
	p, err := wnats.NewPublisher(wnats.PublisherConfig{
		URL:         n.url,
		NatsOptions: []nc.Option{nc.RetryOnFailedConnect(true), nc.Timeout(5 * time.Second)},
		Marshaler:   &wnats.NATSMarshaler{},
		JetStream:   n.js(""),
	}, n.logger)
	if err != nil {
		return nil, err
	}
	n.pub = p
	return p, nil
}

func (n *natsBackend) subscriber(group string) (message.Subscriber, error) {
	return wnats.NewSubscriber(wnats.SubscriberConfig{
		URL:              n.url,
		QueueGroupPrefix: strings.ReplaceAll(group, ".", "_"),
		SubscribersCount: 1,
		AckWaitTimeout:   30 * time.Second,
		CloseTimeout:     10 * time.Second,
		NatsOptions:      []nc.Option{nc.RetryOnFailedConnect(true)},
		Unmarshaler:      &wnats.NATSMarshaler{},
		JetStream:        n.js(strings.ReplaceAll(group, ".", "_")),
	}, n.logger)
}
