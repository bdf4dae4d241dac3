using System.Runtime.CompilerServices;
using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

// In-place compaction: the same-size growth Go's map.go leaves as a TODO ("reuse overflow buckets
// instead of using new ones, if there is no iterator using the old buckets").
//
// Go sheds the overflow buckets that insert/delete churn leaves behind with a same-size growth: a
// second array of 2^B buckets into which every chain is evacuated. Until it ends, the map holds the
// old array, its ~2^B overflow buckets and the new array: about three times the settled table.
// When no enumerator is registered, nothing observes a chain's internal order, so NativeMap instead
// rewrites chains where they are: each write compacts the chain it touches and one more (a cursor
// plays nevacuate's part), moving live cells forward (a cell only ever moves to a lower position, so
// one forward pass suffices) and unlinking the overflow buckets that are left empty. Those go to a
// free list that NewOverflow takes from first, so the table stops growing instead of doubling its
// footprint. While an enumerator is registered the compaction pauses; a same-size growth that has to
// start while one is registered is Go's.
//
// Telemetry and GetStats report the compaction as a same-size growth (started, finished).

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>Whether an in-place compaction is in progress.</summary>
    private bool _compacting;

    /// <summary>Chains below this index have been compacted in the current compaction (Go: nevacuate).</summary>
    private nuint _compactCursor;

    /// <summary>Overflow buckets of the current table unlinked by compaction, linked through their overflow pointers; their tophash bytes are zero.</summary>
    private byte* _freeOverflow;

    /// <summary>Whether a compaction may move cells now: no enumerator can be inside a chain.</summary>
    private bool NoEnumerators => _iterators is null || Volatile.Read(ref _iterators.Active) == 0;

    /// <summary>Starts a same-size growth: in place when no enumerator is registered, else Go's.</summary>
    private void StartSameSizeGrowth()
    {
        if (!NoEnumerators)
        {
            HashGrow(bigger: false);
            return;
        }
        _compacting = true;
        _compactCursor = 0;
        _growthsStarted++;
        _sameSizeGrowthsStarted++;
        OnGrowthStarted(doubling: false);
    }

    /// <summary>Compacts the chain a write is about to use and the next one at the cursor. Go: growWork.</summary>
    /// <remarks>Kept out of line for the same reason as <see cref="GrowWork"/>.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CompactWork(nuint bucket)
    {
        if (!NoEnumerators)
        {
            return; // paused: an enumerator may be inside a chain
        }
        CompactChain(bucket);
        CompactChain(_compactCursor);
        _compactCursor++;
        OnBucketsEvacuated(1); // the cursor's chain: 2^B per compaction, as Go evacuates 2^B old buckets
        if (_compactCursor == BucketShift(_h.B))
        {
            EndCompaction(GrowthEnd.Evacuated);
        }
    }

    /// <summary>Ends the compaction (done, or dropped by a doubling, Clear or an array swap).</summary>
    private void EndCompaction(GrowthEnd end)
    {
        if (!_compacting)
        {
            return;
        }
        _compacting = false;
        _compactCursor = 0;
        SyncNOverflow();
        OnGrowthFinished(doubling: false, end);
    }

    /// <summary>Forgets the free list when the table it belongs to is dropped or wiped.</summary>
    private void ResetOverflowRecycling(GrowthEnd end)
    {
        EndCompaction(end);
        _freeOverflow = null;
    }

    /// <summary>Sets noverflow from the exact count: exact below B = 16, the expected value of Go's sampled counter above.</summary>
    private void SyncNOverflow()
    {
        long n = _h.B < 16 ? _overflowCount : _overflowCount >> (_h.B - 15);
        SetNOverflow((ushort)Math.Min(n, ushort.MaxValue));
    }

    /// <summary>
    /// Packs the live cells of chain <paramref name="j"/> into its first buckets, in order, marks the
    /// rest emptyRest and moves overflow buckets left empty to the free list.
    /// </summary>
    private void CompactChain(nuint j)
    {
        byte* first = Bucket<TKey, TValue>.At(_h.Buckets, j);
        if (Bucket<TKey, TValue>.Overflow(first) == null)
        {
            return; // a single bucket has nothing to shed
        }
        byte* dst = first;
        nuint di = 0;
        for (byte* p = first; p != null; p = Bucket<TKey, TValue>.Overflow(p))
        {
            for (nuint i = 0; i < BucketCount; i++)
            {
                byte top = p[i];
                if (top < MinTopHash)
                {
                    continue;
                }
                if (di == BucketCount)
                {
                    dst = Bucket<TKey, TValue>.Overflow(dst);
                    di = 0;
                }
                if (p != dst || i != di)
                {
                    Bucket<TKey, TValue>.CopyCell(dst, di, top, p, i);
                    p[i] = EmptyOne; // vacated; overwritten below or freed with its bucket
                }
                di++;
            }
        }
        // (dst, di) is one past the last live cell. Everything after it is empty.
        for (nuint i = di; i < BucketCount; i++)
        {
            dst[i] = EmptyRest;
        }
        byte* rest = Bucket<TKey, TValue>.Overflow(dst);
        Bucket<TKey, TValue>.SetOverflow(dst, null);
        while (rest != null)
        {
            byte* next = Bucket<TKey, TValue>.Overflow(rest);
            *(ulong*)rest = 0; // all emptyRest
            Bucket<TKey, TValue>.SetOverflow(rest, _freeOverflow);
            _freeOverflow = rest;
            _overflowCount--;
            rest = next;
        }
        SyncNOverflow();
    }
}
