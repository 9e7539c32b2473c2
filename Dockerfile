# The nodecache image: nodecache-agent and the nodecache CLI (the chart's default image runs both).
#   docker build -t ghcr.io/nodecache/nodecache-agent:0.1.0 .

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so a source change does not download the packages again.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/NodeCache.Core/NodeCache.Core.csproj src/NodeCache.Core/
COPY src/NodeCache.Agent/NodeCache.Agent.csproj src/NodeCache.Agent/
COPY src/NodeCache.Kubernetes/NodeCache.Kubernetes.csproj src/NodeCache.Kubernetes/
COPY src/NodeCache.Cli/NodeCache.Cli.csproj src/NodeCache.Cli/
RUN dotnet restore src/NodeCache.Agent/NodeCache.Agent.csproj && dotnet restore src/NodeCache.Cli/NodeCache.Cli.csproj
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/NodeCache.Agent/NodeCache.Agent.csproj -c Release --no-restore -o /out/agent \
 && dotnet publish src/NodeCache.Cli/NodeCache.Cli.csproj -c Release --no-restore -o /out/cli

# The ASP.NET Core runtime on Debian slim: the agent needs ASP.NET Core, and the chart's containerd-hosts sidecar runs the CLI.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
COPY --from=build /out/agent /opt/nodecache/agent
COPY --from=build /out/cli /opt/nodecache/cli
ENV PATH="/opt/nodecache/agent:/opt/nodecache/cli:${PATH}" \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1
# Non-root by default (the images' "app" user). The chart runs the agent as root only because kubelet creates the
# hostPath cache folder owned by root; give the folder to another user and the chart can run as that user.
USER app
EXPOSE 5050
# In a container of its own network the mirror must listen on the container's interface; the chart replaces these
# arguments with its config, on the node's loopback.
ENTRYPOINT ["nodecache-agent"]
CMD ["--listen", "0.0.0.0:5050", "--cache-dir", "/var/cache/nodecache"]
