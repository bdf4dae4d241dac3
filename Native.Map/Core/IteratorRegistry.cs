namespace Native.Map.Core;

/// <summary>
/// The enumerators of one map and the bucket arrays they may still read (Go leaves this to its
/// garbage collector). An enumerator owns a slot, named by (index, token) so that a disposed or
/// copied struct enumerator can never release someone else's slot. A slot pins two arrays: the one
/// the enumeration started on (Go: hiter.buckets) and the one its current bucket pointer is in.
/// A table released while pinned is retired, and freed when the last pin on it goes away.
/// All members are called under a lock on the registry.
/// </summary>
internal sealed unsafe class IteratorRegistry
{
    internal struct Slot
    {
        /// <summary>0 when the slot is free.</summary>
        public uint Token;

        /// <summary>The array the enumeration started on.</summary>
        public byte* Snapshot;

        /// <summary>The array holding the enumerator's current bucket, when that is another array.</summary>
        public byte* Current;

        /// <summary>The walk state of the slot's enumeration, kept when the slot is freed for its next owner.</summary>
        public IteratorState? State;
    }

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

    public Slot[] Slots = new Slot[4];

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
        Slot[] slots = Slots;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i].Token != 0 && (slots[i].Snapshot == array || slots[i].Current == array))
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

    /// <summary>Takes a free slot pinning <paramref name="snapshot"/>; returns its state, with <see cref="IteratorState.Slot"/> and <see cref="IteratorState.Token"/> set.</summary>
    public IteratorState AllocateSlot(byte* snapshot)
    {
        int index = Array.FindIndex(Slots, s => s.Token == 0);
        if (index < 0)
        {
            index = Slots.Length;
            Array.Resize(ref Slots, Slots.Length * 2);
        }
        uint token = NextToken();
        IteratorState state = Slots[index].State ?? new IteratorState();
        state.Slot = index;
        state.Token = token;
        Slots[index] = new Slot { Token = token, Snapshot = snapshot, State = state };
        Active++;
        return state;
    }

    /// <summary>Frees slot <paramref name="index"/>, keeping its state object for the next owner.</summary>
    public void FreeSlot(int index)
    {
        IteratorState? state = Slots[index].State;
        if (state != null)
        {
            state.Token = 0;
        }
        Slots[index] = new Slot { State = state };
        Active--;
    }

    /// <summary>Frees every slot (the map is disposed): their enumerators then throw.</summary>
    public void FreeAll()
    {
        for (int i = 0; i < Slots.Length; i++)
        {
            if (Slots[i].Token != 0)
            {
                FreeSlot(i);
            }
        }
        Active = 0;
    }
}
