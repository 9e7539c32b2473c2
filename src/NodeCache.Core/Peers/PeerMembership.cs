namespace NodeCache.Peers;

/// <summary>
/// The cluster's agents as this agent knows them now: a static list, or the ready endpoints of the DaemonSet's headless
/// Service. Readers take a snapshot; a change replaces the whole list at once.
/// </summary>
public sealed class PeerMembership
{
    private volatile IReadOnlyList<PeerMember> _members = [];

    /// <param name="self">This agent's own peer URL (<c>--peer-url</c>), by which it recognises itself in the list.</param>
    /// <param name="selfNode">This agent's node name, by which it also recognises itself among endpoints that name their node.</param>
    public PeerMembership(string self, string? selfNode = null)
    {
        SelfId = PeerMember.CanonicalUrl(self);
        SelfNode = selfNode;
    }

    public string SelfId { get; }

    public string? SelfNode { get; }

    /// <summary>Every member known now, ready or not, this agent included when the list names it.</summary>
    public IReadOnlyList<PeerMember> Members => _members;

    /// <summary>This agent as the list names it (with its zone), or null while the list does not name it yet.</summary>
    public PeerMember? Self => _members.FirstOrDefault(IsSelf);

    /// <summary>Raised after each change of the list.</summary>
    public event Action? Changed;

    public bool IsSelf(PeerMember member) => member.Id == SelfId || (SelfNode is not null && member.NodeName == SelfNode);

    /// <summary>Replaces the list; a member named twice is kept once, ready if either entry is.</summary>
    public void Replace(IEnumerable<PeerMember> members)
    {
        _members = [.. members.GroupBy(m => m.Id, StringComparer.Ordinal).Select(same => same.OrderByDescending(m => m.Ready).First()).OrderBy(m => m.Id, StringComparer.Ordinal)];
        Changed?.Invoke();
    }
}
