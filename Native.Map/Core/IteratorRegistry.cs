namespace Native.Map.Core;

/// <summary>
/// The enumerators of one map and the bucket arrays they may still read (Go leaves this to its
/// garbage collector). An enumerator owns a slot, named by (index, token) so that a disposed or
/// copied struct enumerator can never release someone else's slot. A slot holds the enumeration's
/// <see cref="IteratorState"/>, which pins two arrays: the one the enumeration started on
/// (<see cref="IteratorState.Buckets"/>, Go: hiter.buckets) and the one its current bucket pointer
/// is in (<see cref="IteratorState.CurrentPin"/>). The state stays in its slot when the slot is
/// freed (token 0) and serves the slot's next enumeration.
/// A table released while pinned is retired, and freed when the last pin on it goes away.
/// All members are called under a lock on the registry.
/// </summary>
internal sealed unsafe class IteratorRegistry
{
    internal struct Retired
    {
        /// <summary>The array whose pins keep this entry alive.</summary>
        public byte* Array;

        /// <summary>Bytes of <see cref="Array"/> to free, or 0 when only the chunks are retired (the array is still in use).</summary>
        public nuint ArrayBytes;

        /// <summary>log2 of the array's bucket count, to find a key's chain when scrubbing.</summary>
        public byte B;

        /// <summary>Overflow chunks to free with it.</summary>
        public OverflowChunk* Chunks;
    }

    /// <summary>Each slot's state; a slot is free while it is null or its <see cref="IteratorState.Token"/> is 0.</summary>
    public IteratorState?[] Slots = new IteratorState?[4];

    /// <summary>Slots in use.</summary>
    public int Active;

    public Retired[] RetiredTables = new Retired[2];

    public int RetiredCount;

    private uint _nextToken;

    public uint NextToken()
    {
        do
        {
            _nextToken++;
        }
        while (_nextToken == 0);
        return _nextToken;
    }

    /// <summary>Whether some live enumerator may read <paramref name="array"/>.</summary>
    public bool IsPinned(byte* array)
    {
        IteratorState?[] slots = Slots;
        for (int i = 0; i < slots.Length; i++)
        {
            IteratorState? s = slots[i];
            if (s != null && s.Token != 0 && (s.Buckets == array || s.CurrentPin == array))
            {
                return true;
            }
        }
        return false;
    }

    public void AddRetired(in Retired r)
    {
        if (RetiredCount == RetiredTables.Length)
        {
            Array.Resize(ref RetiredTables, RetiredTables.Length * 2);
        }
        RetiredTables[RetiredCount++] = r;
    }

    /// <summary>The live state in slot <paramref name="index"/> if it still belongs to the registration <paramref name="token"/>, else null.</summary>
    public IteratorState? Owned(int index, uint token)
    {
        IteratorState? s = (uint)index < (uint)Slots.Length ? Slots[index] : null;
        return s != null && s.Token == token && token != 0 ? s : null;
    }

    /// <summary>Takes a free slot pinning <paramref name="snapshot"/>; returns its state with <see cref="IteratorState.Slot"/>, <see cref="IteratorState.Token"/> and <see cref="IteratorState.Buckets"/> set.</summary>
    public IteratorState AllocateSlot(byte* snapshot)
    {
        int index = Array.FindIndex(Slots, s => s is null || s.Token == 0);
        if (index < 0)
        {
            index = Slots.Length;
            Array.Resize(ref Slots, Slots.Length * 2);
        }
        IteratorState state = Slots[index] ??= new IteratorState();
        state.Slot = index;
        state.Token = NextToken();
        state.Buckets = snapshot;
        state.CurrentPin = null;
        Active++;
        return state;
    }

    /// <summary>Frees the slot of <paramref name="state"/> (a live one), keeping the state object for the slot's next owner.</summary>
    public void FreeSlot(IteratorState state)
    {
        state.Token = 0;
        state.Buckets = null;
        state.CurrentPin = null;
        Active--;
    }

    /// <summary>Frees every slot (the map is disposed): their enumerators then throw.</summary>
    public void FreeAll()
    {
        foreach (IteratorState? s in Slots)
        {
            if (s != null && s.Token != 0)
            {
                FreeSlot(s);
            }
        }
    }
}
