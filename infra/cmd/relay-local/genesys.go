package main

import (
	"github.com/journeyrelay/relay/infra/localstack"
	"github.com/journeyrelay/relay/shared/config"
)

// realGenesys returns the Genesys Cloud organization named by GENESYS_REGION
// and GENESYS_DEPLOYMENT_ID, or nil when either is unset, which selects the simulator.
func realGenesys(lookup func(string) (string, bool)) (*localstack.RealGenesys, error) {
	_, hasRegion := lookup("GENESYS_REGION")
	_, hasDeployment := lookup("GENESYS_DEPLOYMENT_ID")
	if !hasRegion || !hasDeployment {
		return nil, nil
	}
	env := config.NewEnv(lookup)
	g := &localstack.RealGenesys{
		Region:                  env.Required("GENESYS_REGION"),
		DeploymentID:            env.Required("GENESYS_DEPLOYMENT_ID"),
		ClientID:                env.Required("GENESYS_CLIENT_ID"),
		ClientSecret:            env.Required("GENESYS_CLIENT_SECRET"),
		ExternalConfigurationID: env.String("GENESYS_EXTERNAL_CONFIGURATION_ID", ""),
		ExternalSourceID:        env.String("GENESYS_EXTERNAL_SOURCE_ID", ""),
	}
	return g, env.Err()
}
