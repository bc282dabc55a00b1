// Broken on purpose: ftpsState sent to a Flex Consumption site.
var isFlex = true
var siteConfig = {
  linuxFxVersion: isFlex ? null : ''
  ftpsState: 'Disabled'
}
