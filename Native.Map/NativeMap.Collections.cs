using System.Collections;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>A live, read-only view of the map's keys.</summary>
    public sealed class KeyCollection : ICollection<TKey>, IReadOnlyCollection<TKey>
    {
        private readonly NativeMap<TKey, TValue, THasher> _map;

        internal KeyCollection(NativeMap<TKey, TValue, THasher> map) => _map = map;

        /// <summary>Number of keys.</summary>
        public int Count => _map.Count;

        /// <summary>Always true: change the map instead.</summary>
        public bool IsReadOnly => true;

        /// <summary>Whether the key is in the map.</summary>
        /// <param name="item">The key.</param>
        /// <returns>True when present.</returns>
        public bool Contains(TKey item) => _map.ContainsKey(item);

        /// <summary>Copies the keys into <paramref name="array"/> from <paramref name="arrayIndex"/>.</summary>
        /// <param name="array">Destination.</param>
        /// <param name="arrayIndex">First index written.</param>
        public void CopyTo(TKey[] array, int arrayIndex) => _map.CopyTo(array, arrayIndex, static kv => kv.Key);

        /// <summary>Enumerates the keys (Go iteration semantics, like the map's enumerator).</summary>
        /// <returns>A struct enumerator.</returns>
        public Enumerator GetEnumerator() => new(_map);

        IEnumerator<TKey> IEnumerable<TKey>.GetEnumerator() => GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        void ICollection<TKey>.Add(TKey item) => ThrowHelper.ThrowNotSupported("The key collection is read-only.");

        void ICollection<TKey>.Clear() => ThrowHelper.ThrowNotSupported("The key collection is read-only.");

        bool ICollection<TKey>.Remove(TKey item)
        {
            ThrowHelper.ThrowNotSupported("The key collection is read-only.");
            return false;
        }

        /// <summary>Enumerates keys.</summary>
        public struct Enumerator : IEnumerator<TKey>
        {
            private NativeMap<TKey, TValue, THasher>.Enumerator _inner;

            internal Enumerator(NativeMap<TKey, TValue, THasher> map) => _inner = map.GetEnumerator();

            /// <summary>The current key.</summary>
            public readonly TKey Current => _inner.Current.Key;

            readonly object IEnumerator.Current => ((IEnumerator)_inner).Current is KeyValuePair<TKey, TValue> kv ? kv.Key : default(TKey);

            /// <summary>Advances to the next key.</summary>
            /// <returns>False at the end.</returns>
            public bool MoveNext() => _inner.MoveNext();

            /// <summary>Restarts the enumeration.</summary>
            public void Reset() => _inner.Reset();

            /// <summary>Releases the enumeration.</summary>
            public void Dispose() => _inner.Dispose();
        }
    }

    /// <summary>A live, read-only view of the map's values.</summary>
    public sealed class ValueCollection : ICollection<TValue>, IReadOnlyCollection<TValue>
    {
        private readonly NativeMap<TKey, TValue, THasher> _map;

        internal ValueCollection(NativeMap<TKey, TValue, THasher> map) => _map = map;

        /// <summary>Number of values.</summary>
        public int Count => _map.Count;

        /// <summary>Always true: change the map instead.</summary>
        public bool IsReadOnly => true;

        /// <summary>Whether some entry has the value (a full scan).</summary>
        /// <param name="item">The value.</param>
        /// <returns>True when found.</returns>
        public bool Contains(TValue item) => _map.ContainsValue(item);

        /// <summary>Copies the values into <paramref name="array"/> from <paramref name="arrayIndex"/>.</summary>
        /// <param name="array">Destination.</param>
        /// <param name="arrayIndex">First index written.</param>
        public void CopyTo(TValue[] array, int arrayIndex) => _map.CopyTo(array, arrayIndex, static kv => kv.Value);

        /// <summary>Enumerates the values (Go iteration semantics, like the map's enumerator).</summary>
        /// <returns>A struct enumerator.</returns>
        public Enumerator GetEnumerator() => new(_map);

        IEnumerator<TValue> IEnumerable<TValue>.GetEnumerator() => GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        void ICollection<TValue>.Add(TValue item) => ThrowHelper.ThrowNotSupported("The value collection is read-only.");

        void ICollection<TValue>.Clear() => ThrowHelper.ThrowNotSupported("The value collection is read-only.");

        bool ICollection<TValue>.Remove(TValue item)
        {
            ThrowHelper.ThrowNotSupported("The value collection is read-only.");
            return false;
        }

        /// <summary>Enumerates values.</summary>
        public struct Enumerator : IEnumerator<TValue>
        {
            private NativeMap<TKey, TValue, THasher>.Enumerator _inner;

            internal Enumerator(NativeMap<TKey, TValue, THasher> map) => _inner = map.GetEnumerator();

            /// <summary>The current value.</summary>
            public readonly TValue Current => _inner.Current.Value;

            readonly object IEnumerator.Current => ((IEnumerator)_inner).Current is KeyValuePair<TKey, TValue> kv ? kv.Value : default(TValue);

            /// <summary>Advances to the next value.</summary>
            /// <returns>False at the end.</returns>
            public bool MoveNext() => _inner.MoveNext();

            /// <summary>Restarts the enumeration.</summary>
            public void Reset() => _inner.Reset();

            /// <summary>Releases the enumeration.</summary>
            public void Dispose() => _inner.Dispose();
        }
    }
}
