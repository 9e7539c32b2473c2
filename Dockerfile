# The nodecache image: nodecache-agent and the nodecache CLI, each published self-contained and trimmed onto a base
# that holds only the native libraries .NET needs (docs/image.md).
#   docker build -t ghcr.io/nodecache/nodecache-agent:0.1.0 .
# Without access to mcr.microsoft.com, build both bases from Debian packages and this machine's .NET SDK first:
#   tools/image/local-bases /var/tmp/nodecache-bases
#   buildah build --build-arg SDK_IMAGE=oci:/var/tmp/nodecache-bases:sdk \
#     --build-arg RUNTIME_IMAGE=oci:/var/tmp/nodecache-bases:runtime-deps -t nodecache-agent:0.1.0 .
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled

FROM ${SDK_IMAGE} AS build
# linux-x64 or linux-arm64: the runtime the programs carry.
ARG RUNTIME_ID=linux-x64
# Self-contained and trimmed by default. PUBLISH=-p:SelfContained=false with RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
# builds the programs framework-dependent onto the ASP.NET image instead: docs/image.md compares the two.
ARG PUBLISH="-p:SelfContained=true -p:PublishTrimmed=true"
WORKDIR /src
# Restore first, from the project files alone, so a source change does not download the packages again.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/Directory.Build.props src/
COPY src/NodeCache.Core/NodeCache.Core.csproj src/NodeCache.Core/
COPY src/NodeCache.Kubernetes/NodeCache.Kubernetes.csproj src/NodeCache.Kubernetes/
COPY src/NodeCache.Agent/NodeCache.Agent.csproj src/NodeCache.Agent/
COPY src/NodeCache.Cli/NodeCache.Cli.csproj src/NodeCache.Cli/
RUN dotnet restore src/NodeCache.Agent/NodeCache.Agent.csproj -r "$RUNTIME_ID" $PUBLISH \
 && dotnet restore src/NodeCache.Cli/NodeCache.Cli.csproj -r "$RUNTIME_ID" $PUBLISH
COPY protos/ protos/
COPY src/ src/
# Readable by every user and executable where anything is (createdump comes from its package as 0744): the image runs
# as 1654 by default and as root in the chart.
RUN dotnet publish src/NodeCache.Agent/NodeCache.Agent.csproj -c Release --no-restore -r "$RUNTIME_ID" $PUBLISH -o /out/agent \
 && dotnet publish src/NodeCache.Cli/NodeCache.Cli.csproj -c Release --no-restore -r "$RUNTIME_ID" $PUBLISH -o /out/cli \
 && chmod -R a+rX /out

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/agent /opt/nodecache/agent
COPY --from=build /out/cli /opt/nodecache/cli
ENV PATH="/opt/nodecache/agent:/opt/nodecache/cli:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Non-root by default, as a number so that runAsNonRoot can check it (1654 is "app" in the .NET images and in
# tools/image/local-bases). The chart runs the agent as root only because kubelet creates the hostPath cache folder
# owned by root; give the folder to another user and the chart can run as that user.
USER 1654:1654
EXPOSE 5050
# In a container of its own network the mirror must listen on the container's interface; the chart replaces these
# arguments with its config, on the node's loopback.
ENTRYPOINT ["nodecache-agent"]
CMD ["--listen", "0.0.0.0:5050", "--cache-dir", "/var/cache/nodecache"]
