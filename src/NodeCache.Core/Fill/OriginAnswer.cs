using NodeCache.Mirror;

namespace NodeCache.Fill;

/// <summary>An origin's answer to a request for a blob: a body to read, or why there is none. Dispose it to release the connection.</summary>
public sealed class OriginAnswer : IDisposable
{
    private readonly IDisposable? _owner;

    private OriginAnswer(Stream? body, long? size, string? mediaType, IDisposable? owner, FallbackReason reason, string? detail, MirrorError? error)
    {
        Body = body;
        Size = size;
        MediaType = mediaType;
        _owner = owner;
        Reason = reason;
        Detail = detail;
        Error = error;
    }

    /// <summary>Null when the origin gave no body.</summary>
    public Stream? Body { get; }

    /// <summary>The blob's whole size as the origin announced it (not the length of a range); null when it did not say.</summary>
    public long? Size { get; }

    public string? MediaType { get; }

    /// <summary>Why there is no body.</summary>
    public FallbackReason Reason { get; }

    /// <summary>One line for logs.</summary>
    public string? Detail { get; }

    /// <summary>What a client should be told when this was the last origin: the upstream's own answer.</summary>
    public MirrorError? Error { get; }

    /// <param name="owner">What holds the connection the body is read from.</param>
    public static OriginAnswer Found(Stream body, long? size, string? mediaType, IDisposable? owner) =>
        new(body, size, mediaType, owner, default, null, null);

    public static OriginAnswer Missing(FallbackReason reason, string detail, MirrorError? error = null) =>
        new(null, null, null, null, reason, detail, error);

    public void Dispose()
    {
        Body?.Dispose();
        _owner?.Dispose();
    }
}
