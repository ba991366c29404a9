namespace MaaS.Core.Registry;

/// <summary>
/// One lock per model name: the writer (<see cref="ModelManager"/>) holds it for every change to a model, and the
/// loaded-model cache takes it to reload or evict one of the model's versions, so no two of them ever interleave on a
/// model. An entry lives only while someone holds or waits for it, so the names of deleted models leave nothing behind.
/// </summary>
internal sealed class ModelLocks
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Names with a lock entry right now (held or awaited); for tests and metrics.</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Waits for the model's lock; dispose the result to release it.</summary>
    public async Task<IDisposable> LockAsync(string name, CancellationToken cancellationToken)
    {
        var entry = Enter(name);
        try
        {
            await entry.Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(name, entry);
            throw;
        }

        return new Held(this, name, entry);
    }

    /// <summary>Takes the model's lock only if nobody holds it; null when it is busy (the caller skips the model).</summary>
    public IDisposable? TryLock(string name)
    {
        var entry = Enter(name);
        if (entry.Gate.Wait(0))
        {
            return new Held(this, name, entry);
        }

        Leave(name, entry);
        return null;
    }

    private Entry Enter(string name)
    {
        lock (_entries)
        {
            if (!_entries.TryGetValue(name, out var entry))
            {
                entry = new Entry();
                _entries.Add(name, entry);
            }

            entry.Users++;
            return entry;
        }
    }

    private void Leave(string name, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Users == 0)
            {
                _entries.Remove(name);
                entry.Gate.Dispose();
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Holders and waiters; guarded by the dictionary's lock.</summary>
        public int Users { get; set; }
    }

    private sealed class Held(ModelLocks owner, string name, Entry entry) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                entry.Gate.Release();
                owner.Leave(name, entry);
            }
        }
    }
}
