using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NodeCache.Testing.Kubernetes;

/// <summary>
/// An in-process Kubernetes API server on 127.0.0.1 that speaks the real list/watch protocol for the resources the
/// agent reads: a list is a JSON <c>*List</c> with <c>metadata.resourceVersion</c>; <c>?watch=true</c> streams one JSON
/// event per line (ADDED, MODIFIED, DELETED, BOOKMARK with <c>allowWatchBookmarks</c>, ERROR with a 410 Status for a
/// compacted version) from the version asked for; a <c>fieldSelector</c> turns a change into ADDED or DELETED as an object
/// starts or stops matching, as the real watch cache does; a <c>labelSelector</c> filters lists and watches alike. Objects
/// can be created (POST), deleted and changed with a JSON merge patch (PATCH, <c>application/merge-patch+json</c>) of the
/// object or of its <c>status</c> subresource; <c>metadata.generation</c> moves only when the spec changes, as for a resource
/// with a status subresource. Tests change objects, compact history and drop connections.
/// </summary>
public sealed class FakeApiServer : IAsyncDisposable
{
    /// <summary>The bearer token the kubeconfig carries; a request with another gets 401. Over plain HTTP kubectl sends none, and none is accepted.</summary>
    public const string Token = "nodecache-test-token";

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<ObjectKey, JsonObject> _objects = [];
    private readonly List<StoredEvent> _history = [];
    private readonly List<Watcher> _watchers = [];
    private readonly List<string> _requests = [];
    private long _version = 1000;
    private long _compactedTo;

    private FakeApiServer(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>While set, every request is answered 503, as by an API server that is restarting.</summary>
    public bool Unavailable { get; set; }

    /// <summary>How often an idle watch that allows bookmarks gets one.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <param name="address">Where to listen (a free port): 127.0.0.1 unless told, e.g. the bridge of a <see cref="Cluster.NodeNetwork"/>, where its namespaces reach it.</param>
    public static async Task<FakeApiServer> StartAsync(System.Net.IPAddress? address = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{address ?? System.Net.IPAddress.Loopback}:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeApiServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return server;
    }

    /// <summary>The resourceVersion of the latest change.</summary>
    public long ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _version;
            }
        }
    }

    /// <summary>Watch connections open now.</summary>
    public int OpenWatches
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    /// <summary>Every request so far as <c>GET path?query</c>, in order.</summary>
    public IReadOnlyList<string> Requests()
    {
        lock (_gate)
        {
            return [.. _requests];
        }
    }

    /// <summary>Writes a kubeconfig that points at this server with <see cref="Token"/>, or with a user that has no credentials at all (as for <c>kubectl proxy</c>).</summary>
    public void WriteKubeconfig(string path, bool anonymous = false) => File.WriteAllText(path, $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: fake
          cluster:
            server: {BaseUri.ToString().TrimEnd('/')}
        users:
        - name: agent
          user: {(anonymous ? "{}" : $"{{ token: {Token} }}")}
        contexts:
        - name: fake
          context:
            cluster: fake
            user: agent
            namespace: default
        current-context: fake
        """);

    /// <summary>Creates or replaces an object (<c>apiVersion</c>, <c>kind</c>, <c>metadata.name</c> and, when namespaced, <c>metadata.namespace</c> set) and returns its resourceVersion.</summary>
    public long Apply(JsonObject item)
    {
        var key = ObjectKey.Of(item);
        lock (_gate)
        {
            var old = _objects.GetValueOrDefault(key);
            var stored = (JsonObject)item.DeepClone();
            var metadata = (JsonObject)stored["metadata"]!;
            var version = ++_version;
            metadata["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
            metadata["uid"] ??= old?["metadata"]?["uid"]?.DeepClone() ?? Guid.NewGuid().ToString();
            metadata["creationTimestamp"] ??= old?["metadata"]?["creationTimestamp"]?.DeepClone() ?? DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            var generation = old?["metadata"]?["generation"]?.GetValue<long>() ?? 0;
            metadata["generation"] = old is null || !JsonNode.DeepEquals(old["spec"], stored["spec"]) ? generation + 1 : generation;
            _objects[key] = stored;
            Publish(new StoredEvent(version, key, old is null ? "ADDED" : "MODIFIED", old, stored));
            return version;
        }
    }

    /// <summary>Changes a stored object in place, as a PATCH would; returns the new resourceVersion.</summary>
    public long Update(string resource, string? @namespace, string name, Action<JsonObject> change)
    {
        // Atomic, as the API server's own read-modify-write of a PATCH is: two concurrent patches both land.
        lock (_gate)
        {
            var copy = (JsonObject)_objects[new ObjectKey(resource, @namespace, name)].DeepClone();
            change(copy);
            return Apply(copy);
        }
    }

    public JsonObject? Get(string resource, string? @namespace, string name)
    {
        lock (_gate)
        {
            return _objects.GetValueOrDefault(new ObjectKey(resource, @namespace, name))?.DeepClone() as JsonObject;
        }
    }

    public long Delete(string resource, string? @namespace, string name)
    {
        var key = new ObjectKey(resource, @namespace, name);
        lock (_gate)
        {
            if (!_objects.Remove(key, out var old))
            {
                throw new InvalidOperationException($"no {resource} {@namespace}/{name}");
            }
            var version = ++_version;
            var gone = (JsonObject)old.DeepClone();
            gone["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
            Publish(new StoredEvent(version, key, "DELETED", old, gone));
            return version;
        }
    }

    /// <summary>Forgets the history up to now: a watch from an older resourceVersion gets 410 Gone, as after etcd compaction.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _compactedTo = _version;
            _history.Clear();
        }
    }

    /// <summary>Cuts every open watch connection without a word, as a restarting API server or a broken network does.</summary>
    public void DropWatches()
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Context.Abort();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        DropWatches();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Publish(StoredEvent stored)
    {
        _history.Add(stored);
        foreach (var watcher in _watchers)
        {
            watcher.Events.Writer.TryWrite(stored);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        lock (_gate)
        {
            _requests.Add($"{request.Method} {request.Path}{request.QueryString}");
        }
        if (request.Headers.Authorization.ToString() is { Length: > 0 } authorization && authorization != $"Bearer {Token}")
        {
            await WriteStatusAsync(context, 401, "Unauthorized", "Unauthorized");
            return;
        }
        if (Unavailable)
        {
            await WriteStatusAsync(context, 503, "ServiceUnavailable", "the server is currently unable to handle the request");
            return;
        }
        var path = request.Path.Value!.Trim('/').Split('/');
        if (Discovery.TryAnswer(path) is { } discovery)
        {
            await WriteJsonAsync(context, discovery);
            return;
        }
        if (!ResourcePath.TryParse(path, out var target))
        {
            await WriteStatusAsync(context, 404, "NotFound", $"the server could not find the requested resource {request.Path}");
            return;
        }
        if (target.Name is { } name)
        {
            var item = Get(target.Resource, target.Namespace, name);
            if (item is null)
            {
                await WriteStatusAsync(context, 404, "NotFound", $"{target.Resource} \"{name}\" not found");
                return;
            }
            switch (request.Method)
            {
                case "GET":
                    await WriteJsonAsync(context, item);
                    return;
                case "DELETE":
                    Delete(target.Resource, target.Namespace, name);
                    await WriteJsonAsync(context, item);
                    return;
                case "PATCH":
                    await PatchAsync(context, target, name);
                    return;
                default:
                    await WriteStatusAsync(context, 405, "MethodNotAllowed", $"{request.Method} is not supported");
                    return;
            }
        }
        if (request.Method == "POST")
        {
            await CreateAsync(context, target);
            return;
        }
        var fields = FieldSelector.Parse(request.Query["fieldSelector"].ToString());
        var labels = LabelSelector.Parse(request.Query["labelSelector"].ToString());
        Func<JsonObject, bool> selector = item => fields.Matches(item) && labels.Matches(item);
        if (request.Query["watch"] is var watch && (watch == "true" || watch == "1"))
        {
            await WatchAsync(context, target, selector);
            return;
        }
        await WriteJsonAsync(context, List(target, selector));
    }

    private async Task CreateAsync(HttpContext context, ResourcePath target)
    {
        if (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) is not JsonObject item
            || item["metadata"]?["name"]?.GetValue<string>() is not { Length: > 0 } name)
        {
            await WriteStatusAsync(context, 422, "Invalid", "metadata.name: Required value");
            return;
        }
        if (item["kind"]?.GetValue<string>() != target.Kind)
        {
            await WriteStatusAsync(context, 400, "BadRequest", $"the object's kind is not {target.Kind}");
            return;
        }
        if (target.Namespace is { } @namespace)
        {
            item["metadata"]!["namespace"] = @namespace;
        }
        if (Get(target.Resource, target.Namespace, name) is not null)
        {
            await WriteStatusAsync(context, 409, "AlreadyExists", $"{target.Resource} \"{name}\" already exists");
            return;
        }
        // The API server ignores a status sent with a create when the resource has a status subresource.
        item.Remove("status");
        Apply(item);
        context.Response.StatusCode = 201;
        await WriteJsonAsync(context, Get(target.Resource, target.Namespace, name)!);
    }

    private async Task PatchAsync(HttpContext context, ResourcePath target, string name)
    {
        if (context.Request.ContentType?.Split(';')[0].Trim() != "application/merge-patch+json")
        {
            await WriteStatusAsync(context, 415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/merge-patch+json");
            return;
        }
        var patch = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject ?? [];
        Update(target.Resource, target.Namespace, name, item =>
        {
            // The status subresource changes only status; the object itself changes everything but status.
            if (target.Subresource == "status")
            {
                item["status"] = MergePatch.Apply(item["status"], patch["status"]);
            }
            else
            {
                var status = item["status"]?.DeepClone();
                var patched = (JsonObject)MergePatch.Apply(item, patch)!;
                foreach (var key in item.Select(p => p.Key).ToList())
                {
                    item.Remove(key);
                }
                foreach (var (key, value) in patched)
                {
                    item[key] = value?.DeepClone();
                }
                item["status"] = status;
            }
        });
        await WriteJsonAsync(context, Get(target.Resource, target.Namespace, name)!);
    }

    private JsonObject List(ResourcePath target, Func<JsonObject, bool> selector)
    {
        lock (_gate)
        {
            var items = _objects.Where(o => target.Covers(o.Key) && selector(o.Value)).Select(o => o.Value.DeepClone()).ToArray();
            return new JsonObject
            {
                ["apiVersion"] = target.ApiVersion,
                ["kind"] = target.ListKind,
                ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString(CultureInfo.InvariantCulture) },
                ["items"] = new JsonArray(items),
            };
        }
    }

    private async Task WatchAsync(HttpContext context, ResourcePath target, Func<JsonObject, bool> selector)
    {
        var query = context.Request.Query;
        var bookmarks = query["allowWatchBookmarks"] == "true";
        var from = long.TryParse(query["resourceVersion"], CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        var watcher = new Watcher(context);
        List<string> backlog;
        lock (_gate)
        {
            if (from != 0 && from < _compactedTo)
            {
                backlog = [EventLine("ERROR", Status(410, "Expired", $"too old resource version: {from} ({_compactedTo})"))];
                watcher = null;
            }
            else
            {
                // No version: the current state as ADDED events, then changes; a version: every change after it.
                backlog = from == 0
                    ? [.. _objects.Where(o => target.Covers(o.Key) && selector(o.Value)).Select(o => EventLine("ADDED", o.Value))]
                    : [.. _history.Where(e => e.Version > from && target.Covers(e.Key)).Select(e => Translate(e, selector)).OfType<string>()];
                _watchers.Add(watcher);
            }
        }
        context.Response.ContentType = "application/json";
        try
        {
            foreach (var line in backlog)
            {
                await WriteLineAsync(context, line);
            }
            if (watcher is null)
            {
                return;
            }
            await context.Response.Body.FlushAsync(context.RequestAborted);
            var timeout = int.TryParse(query["timeoutSeconds"], CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            deadline.CancelAfter(timeout);
            while (!deadline.IsCancellationRequested)
            {
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                tick.CancelAfter(BookmarkInterval);
                try
                {
                    var next = await watcher.Events.Reader.ReadAsync(tick.Token);
                    if (target.Covers(next.Key) && Translate(next, selector) is { } line)
                    {
                        await WriteLineAsync(context, line);
                    }
                }
                catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
                {
                    if (bookmarks)
                    {
                        await WriteLineAsync(context, EventLine("BOOKMARK", new JsonObject
                        {
                            ["kind"] = target.Kind,
                            ["apiVersion"] = target.ApiVersion,
                            ["metadata"] = new JsonObject { ["resourceVersion"] = ResourceVersion.ToString(CultureInfo.InvariantCulture) },
                        }));
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client went away, or the test dropped the connection.
        }
        finally
        {
            if (watcher is not null)
            {
                lock (_gate)
                {
                    _watchers.Remove(watcher);
                }
            }
        }
    }

    // A change as a watcher with this selector sees it: it appears (ADDED) or disappears (DELETED) when it starts or stops matching.
    private static string? Translate(StoredEvent stored, Func<JsonObject, bool> selector)
    {
        var before = stored.Old is not null && selector(stored.Old);
        var after = selector(stored.New);
        return stored.Type switch
        {
            "DELETED" => before ? EventLine("DELETED", stored.New) : null,
            _ when before && after => EventLine(stored.Type == "ADDED" ? "ADDED" : "MODIFIED", stored.New),
            _ when after => EventLine("ADDED", stored.New),
            _ when before => EventLine("DELETED", stored.New),
            _ => null,
        };
    }

    private static string EventLine(string type, JsonObject item) =>
        new JsonObject { ["type"] = type, ["object"] = item.DeepClone() }.ToJsonString();

    private static async Task WriteLineAsync(HttpContext context, string line)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static JsonObject Status(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    private static async Task WriteStatusAsync(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        await WriteJsonAsync(context, Status(code, reason, message));
    }

    private static async Task WriteJsonAsync(HttpContext context, JsonNode body)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private sealed class Watcher(HttpContext context)
    {
        public HttpContext Context { get; } = context;

        public Channel<StoredEvent> Events { get; } = Channel.CreateUnbounded<StoredEvent>();
    }

    private sealed record StoredEvent(long Version, ObjectKey Key, string Type, JsonObject? Old, JsonObject New);
}
