using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>Registry, repository and tag as the tag index stores them: inline, so tags can be listed; their SHA-256 is the record's key.</summary>
internal struct StoredTagName
{
    /// <summary>A DNS name has at most 253 characters; 255 bytes hold any registry host a node is configured with, with its port.</summary>
    public const int MaxRegistryLength = 255;

    private const int Capacity = MaxRegistryLength + RepositoryName.MaxLength + Oci.Tag.MaxLength;

    private byte _registryLength;
    private byte _repositoryLength;
    private byte _tagLength;
    private Text _text;

    /// <summary>False when the parts cannot name a tag: an empty or over-long registry, one with '/', or an invalid tag.</summary>
    public static bool TryCreate(string registry, RepositoryName repository, string tag, out StoredTagName name)
    {
        ArgumentNullException.ThrowIfNull(repository);
        name = default;
        if (string.IsNullOrEmpty(registry) || registry.Contains('/', StringComparison.Ordinal) || tag is null || !Oci.Tag.IsValid(tag))
        {
            return false;
        }
        Span<byte> text = name._text;
        if (!Encoding.UTF8.TryGetBytes(registry, text[..MaxRegistryLength], out var registryLength))
        {
            return false;
        }
        // Repository names and tags are ASCII by their grammars, and within their maximum lengths.
        var repositoryLength = Encoding.ASCII.GetBytes(repository.Value, text[registryLength..]);
        var tagLength = Encoding.ASCII.GetBytes(tag, text[(registryLength + repositoryLength)..]);
        (name._registryLength, name._repositoryLength, name._tagLength) = ((byte)registryLength, (byte)repositoryLength, (byte)tagLength);
        return true;
    }

    public readonly string Registry => Encoding.UTF8.GetString(Part(0, _registryLength));

    public readonly RepositoryName Repository => RepositoryName.Parse(Encoding.ASCII.GetString(Part(_registryLength, _repositoryLength)));

    public readonly string Tag => Encoding.ASCII.GetString(Part(_registryLength + _repositoryLength, _tagLength));

    /// <summary>SHA-256 of "registry/repository:tag". A registry holds no '/', a repository no ':', a tag neither, so two names never share the text.</summary>
    public readonly Digest Key()
    {
        Span<byte> text = stackalloc byte[Capacity + 2];
        var length = 0;
        Append(text, ref length, Part(0, _registryLength));
        text[length++] = (byte)'/';
        Append(text, ref length, Part(_registryLength, _repositoryLength));
        text[length++] = (byte)':';
        Append(text, ref length, Part(_registryLength + _repositoryLength, _tagLength));
        return Digest.Compute(text[..length]);
    }

    [UnscopedRef]
    private readonly ReadOnlySpan<byte> Part(int start, int length)
    {
        ReadOnlySpan<byte> text = _text;
        return text.Slice(start, length);
    }

    private static void Append(Span<byte> destination, ref int length, ReadOnlySpan<byte> part)
    {
        part.CopyTo(destination[length..]);
        length += part.Length;
    }

    [InlineArray(Capacity)]
    private struct Text
    {
        private byte _first;
    }
}
