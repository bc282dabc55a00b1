#!/usr/bin/env bash
# Deploy the order pipeline to Azure in one command: provision infra/main.bicep
# into a resource group, then publish the staged function app.
#
#   infra/deploy.sh <environment> [app-dir]
#
#   environment  dev, prod, ...: uses infra/main.<environment>.parameters.json
#   app-dir      the staged app: host.json, one folder per function with its
#                function.json, and the `handler` binary built for linux/amd64
#                (default: $APP_DIR, else dist/app)
#
# Environment:
#   AZURE_RESOURCE_GROUP     resource group (default rg-orderpipeline-<environment>)
#   AZURE_LOCATION           region used when the group is created (default
#                            swedencentral; must offer Flex Consumption:
#                            az functionapp list-flexconsumption-locations)
#   AZURE_SUBSCRIPTION       subscription to use (default: az's current one)
#   DEPLOYER_PRINCIPAL_ID    ElasticPremium only: object id allowed to upload the
#   DEPLOYER_PRINCIPAL_TYPE  package (default: the signed-in user, type User)
#
# Needs the Azure CLI 2.60 or later, signed in (az login), and zip or python3.
# No key or connection string is read or written: the deployment uses your
# Entra sign-in, the app its managed identity.
set -euo pipefail

die() {
	echo "deploy: $*" >&2
	exit 1
}

env_name=${1:-}
[[ -n $env_name ]] || die "usage: infra/deploy.sh <environment> [app-dir]"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app_dir=${2:-${APP_DIR:-$root/dist/app}}
params=$root/infra/main.$env_name.parameters.json
[[ -f $params ]] || die "no parameter file $params"

check_app() {
	[[ -f $app_dir/host.json ]] || die "$app_dir/host.json missing: stage the app first (make)"
	compgen -G "$app_dir/*/function.json" >/dev/null || die "no function folders in $app_dir"
	[[ -x $app_dir/handler ]] || die "$app_dir/handler missing or not executable"
	[[ $(head -c 4 "$app_dir/handler" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] ||
		die "$app_dir/handler is not a Linux binary: build it with GOOS=linux GOARCH=amd64"
}

# package zips the staged app keeping the handler's executable bit.
package() {
	local zipfile=$1
	if command -v zip >/dev/null; then
		(cd "$app_dir" && zip -qr -X "$zipfile" .)
	else
		(cd "$app_dir" && python3 -m zipfile -c "$zipfile" ./*)
	fi
}

retry() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		"$@" && return 0
		echo "deploy: retrying in 15s (role assignments can take a few minutes to apply)" >&2
		sleep 15
	done
	return 1
}

check_app
command -v az >/dev/null || die "the Azure CLI (az) is required"
if [[ -n ${AZURE_SUBSCRIPTION:-} ]]; then
	az account set --subscription "$AZURE_SUBSCRIPTION"
fi
az account show -o none || die "sign in first: az login"

rg=${AZURE_RESOURCE_GROUP:-rg-orderpipeline-$env_name}
if [[ $(az group exists --name "$rg") != true ]]; then
	az group create --name "$rg" --location "${AZURE_LOCATION:-swedencentral}" -o none
fi

deployer=${DEPLOYER_PRINCIPAL_ID:-$(az ad signed-in-user show --query id -o tsv 2>/dev/null || true)}
extra=()
if [[ -n $deployer ]]; then
	extra=(--parameters "deployerPrincipalId=$deployer" "deployerPrincipalType=${DEPLOYER_PRINCIPAL_TYPE:-User}")
fi

deployment=orderpipeline-$env_name
echo "deploy: provisioning $rg from infra/main.bicep with $(basename "$params")"
az deployment group create --resource-group "$rg" --name "$deployment" \
	--template-file "$root/infra/main.bicep" --parameters "@$params" "${extra[@]}" -o none

output() {
	az deployment group show --resource-group "$rg" --name "$deployment" \
		--query "properties.outputs.$1.value" -o tsv
}
app=$(output functionAppName)
plan=$(output hostingPlan)
url=$(output functionAppUrl)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
package "$work/app.zip"

echo "deploy: publishing $app_dir to $app ($plan)"
case $plan in
FlexConsumption)
	retry az functionapp deployment source config-zip --resource-group "$rg" --name "$app" --src "$work/app.zip" -o none
	;;
ElasticPremium)
	# The app runs from this blob (WEBSITE_RUN_FROM_PACKAGE), read with its identity.
	retry az storage blob upload --auth-mode login --account-name "$(output storageAccountName)" \
		--container-name "$(output packageContainerName)" --name app.zip --file "$work/app.zip" --overwrite -o none
	az functionapp restart --resource-group "$rg" --name "$app" -o none
	;;
*)
	die "unknown hosting plan $plan"
	;;
esac

echo "deploy: done: $url/api/products"
echo "deploy: cosmos $(output cosmosEndpoint), service bus $(output serviceBusNamespace)"
