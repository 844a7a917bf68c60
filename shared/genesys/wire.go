package genesys

import "github.com/journeyrelay/relay/shared/journey"

// The request bodies of the Genesys journey endpoints. Field order is the
// order of the bytes sent.

type appEvent struct {
	EventName           string               `json:"eventName"`
	ScreenName          string               `json:"screenName"`
	App                 appInfo              `json:"app"`
	Device              device               `json:"device"`
	CustomerCookieID    string               `json:"customerCookieId"`
	CreatedDate         string               `json:"createdDate"`
	SDKLibrary          *sdkLibrary          `json:"sdkLibrary,omitempty"`
	NetworkConnectivity *network             `json:"networkConnectivity,omitempty"`
	ReferrerURL         string               `json:"referrerUrl,omitempty"`
	SearchQuery         string               `json:"searchQuery,omitempty"`
	Attributes          map[string]attribute `json:"attributes,omitempty"`
	ExternalID          string               `json:"externalId,omitempty"`
}

type webEvent struct {
	CustomerCookieID string               `json:"customerCookieId"`
	EventName        string               `json:"eventName"`
	Page             page                 `json:"page"`
	CreatedDate      string               `json:"createdDate"`
	UserAgentString  string               `json:"userAgentString,omitempty"`
	ReferrerURL      string               `json:"referrerUrl,omitempty"`
	SearchQuery      string               `json:"searchQuery,omitempty"`
	Attributes       map[string]attribute `json:"attributes,omitempty"`
	ExternalID       string               `json:"externalId,omitempty"`
}

type externalEvents struct {
	Entities []externalEntity `json:"entities"`
}

type externalEntity struct {
	ID          string               `json:"id"`
	DateCreated string               `json:"dateCreated"`
	Identifiers identifiers          `json:"identifiers"`
	Attributes  map[string]attribute `json:"attributes"`
}

type identifiers struct {
	ExternalIDs []externalID `json:"externalIds"`
}

type externalID struct {
	Value            string `json:"value"`
	ExternalSourceID string `json:"externalSourceId"`
}

// attribute is a custom attribute. Genesys takes every value as a string and
// reads it according to DataType: string, number, integer or boolean.
type attribute struct {
	DataType string `json:"dataType"`
	Value    string `json:"value"`
}

type page struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

type appInfo struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	Version     string `json:"version"`
	BuildNumber string `json:"buildNumber"`
}

type device struct {
	Category      string   `json:"category"`
	Type          string   `json:"type"`
	OSFamily      string   `json:"osFamily"`
	OSVersion     string   `json:"osVersion"`
	IsMobile      *bool    `json:"isMobile,omitempty"`
	ScreenHeight  *int     `json:"screenHeight,omitempty"`
	ScreenWidth   *int     `json:"screenWidth,omitempty"`
	ScreenDensity *float64 `json:"screenDensity,omitempty"`
	Fingerprint   string   `json:"fingerprint,omitempty"`
	Manufacturer  string   `json:"manufacturer,omitempty"`
}

type sdkLibrary struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type network struct {
	Carrier          string `json:"carrier,omitempty"`
	BluetoothEnabled *bool  `json:"bluetoothEnabled,omitempty"`
	CellularEnabled  *bool  `json:"cellularEnabled,omitempty"`
	WifiEnabled      *bool  `json:"wifiEnabled,omitempty"`
}

func newAppInfo(a *journey.App) appInfo {
	return appInfo{Name: a.Name, Namespace: a.Namespace, Version: a.Version, BuildNumber: a.BuildNumber}
}

func newDevice(d *journey.Device) device {
	return device{
		Category:      d.Category,
		Type:          d.Type,
		OSFamily:      d.OSFamily,
		OSVersion:     d.OSVersion,
		IsMobile:      d.IsMobile,
		ScreenHeight:  d.ScreenHeight,
		ScreenWidth:   d.ScreenWidth,
		ScreenDensity: d.ScreenDensity,
		Fingerprint:   d.Fingerprint,
		Manufacturer:  d.Manufacturer,
	}
}

func newSDKLibrary(s *journey.SDK) *sdkLibrary {
	if s == nil {
		return nil
	}
	return &sdkLibrary{Name: s.Name, Version: s.Version}
}

func newNetwork(n *journey.Network) *network {
	if n == nil {
		return nil
	}
	return &network{
		Carrier:          n.Carrier,
		BluetoothEnabled: n.BluetoothEnabled,
		CellularEnabled:  n.CellularEnabled,
		WifiEnabled:      n.WifiEnabled,
	}
}
