package infra

// The Service Bus topology deployed to Azure (infra/servicebus.json, read by
// modules/servicebus.bicep) is the one the local emulator is configured with.

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

const emulatorConfigPath = "../emulators/servicebus/config/orderpipeline.json"

type subscriptionDef struct {
	Name                             string `json:"name"`
	RequiresSession                  bool   `json:"requiresSession"`
	MaxDeliveryCount                 int    `json:"maxDeliveryCount"`
	DeadLetteringOnMessageExpiration bool   `json:"deadLetteringOnMessageExpiration"`
	LockDuration                     string `json:"lockDuration"`
}

type topology struct {
	Topic                    string            `json:"topic"`
	DuplicateDetectionWindow string            `json:"duplicateDetectionWindow"`
	MessageTimeToLive        string            `json:"messageTimeToLive"`
	Subscriptions            []subscriptionDef `json:"subscriptions"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// emulatorTopology reads the topic of the Service Bus emulator's Config.json.
func emulatorTopology(path, topic string) (topology, error) {
	var doc struct {
		UserConfig struct {
			Namespaces []struct {
				Topics []struct {
					Name       string
					Properties struct {
						DefaultMessageTimeToLive            string
						DuplicateDetectionHistoryTimeWindow string
						RequiresDuplicateDetection          bool
					}
					Subscriptions []struct {
						Name       string
						Properties struct {
							DeadLetteringOnMessageExpiration bool
							LockDuration                     string
							MaxDeliveryCount                 int
							RequiresSession                  bool
						}
					}
				}
			}
		}
	}
	if err := readJSON(path, &doc); err != nil {
		return topology{}, err
	}
	for _, ns := range doc.UserConfig.Namespaces {
		for _, tp := range ns.Topics {
			if tp.Name != topic {
				continue
			}
			window := tp.Properties.DuplicateDetectionHistoryTimeWindow
			if !tp.Properties.RequiresDuplicateDetection {
				window = ""
			}
			out := topology{Topic: tp.Name, DuplicateDetectionWindow: window, MessageTimeToLive: tp.Properties.DefaultMessageTimeToLive}
			for _, s := range tp.Subscriptions {
				p := s.Properties
				out.Subscriptions = append(out.Subscriptions, subscriptionDef{s.Name, p.RequiresSession, p.MaxDeliveryCount, p.DeadLetteringOnMessageExpiration, p.LockDuration})
			}
			return out, nil
		}
	}
	return topology{}, fmt.Errorf("%s: no topic %s", path, topic)
}

// checkTopology compares Azure's topology with the emulator's.
func checkTopology(azure topology, emulatorPath string) []string {
	local, err := emulatorTopology(emulatorPath, azure.Topic)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	if local.DuplicateDetectionWindow != azure.DuplicateDetectionWindow || local.MessageTimeToLive != azure.MessageTimeToLive {
		problems = append(problems, fmt.Sprintf("topic %s: duplicate detection %q, TTL %q in infra/servicebus.json; %q, %q in %s",
			azure.Topic, azure.DuplicateDetectionWindow, azure.MessageTimeToLive, local.DuplicateDetectionWindow, local.MessageTimeToLive, emulatorPath))
	}
	emulated := map[string]subscriptionDef{}
	for _, s := range local.Subscriptions {
		emulated[s.Name] = s
	}
	for _, s := range azure.Subscriptions {
		if e, ok := emulated[s.Name]; !ok || e != s {
			problems = append(problems, fmt.Sprintf("subscription %s: %+v in infra/servicebus.json, %+v in %s", s.Name, s, e, emulatorPath))
		}
		delete(emulated, s.Name)
	}
	for name := range emulated {
		problems = append(problems, fmt.Sprintf("subscription %s is in %s but not in infra/servicebus.json", name, emulatorPath))
	}
	return problems
}

func loadTopology(t *testing.T) topology {
	t.Helper()
	var tp topology
	require.NoError(t, readJSON("servicebus.json", &tp))
	return tp
}

func TestServiceBusTopologyMatchesEmulator(t *testing.T) {
	tp := loadTopology(t)
	require.NotEmpty(t, tp.DuplicateDetectionWindow, "duplicate detection needs a stated window")
	noProblems(t, checkTopology(tp, emulatorConfigPath))
	r := loadRepo(t)
	v, _ := r.local.value("SERVICEBUS_TOPIC")
	require.Equal(t, tp.Topic, v, "SERVICEBUS_TOPIC in local.settings.json.example")
}
