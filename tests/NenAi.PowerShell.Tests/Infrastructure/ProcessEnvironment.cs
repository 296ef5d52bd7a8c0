using System;
using System.Collections.Generic;
using Xunit;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// Tests that read or set NEN_* environment variables (process-wide) run in this collection, alone, after
    /// the parallel ones; every other test passes its configuration explicitly.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class ProcessEnvironment
    {
        public const string Name = "Process environment";

        public static readonly string[] NenVariables = { "NEN_BASE_URL", "NEN_API_KEY", "NEN_SIGNING_KEY", "NEN_WEBHOOK_SECRET" };

        /// <summary>Clears every NEN_* variable (or sets the given ones) and restores them all on dispose.</summary>
        public static IDisposable Scope(params (string Name, string? Value)[] values)
        {
            var saved = new Dictionary<string, string?>();
            foreach (string name in NenVariables)
            {
                saved[name] = Environment.GetEnvironmentVariable(name);
                Environment.SetEnvironmentVariable(name, null);
            }
            foreach (var (name, value) in values) Environment.SetEnvironmentVariable(name, value);
            return new Restore(saved);
        }

        private sealed class Restore : IDisposable
        {
            private readonly Dictionary<string, string?> _saved;
            public Restore(Dictionary<string, string?> saved) => _saved = saved;
            public void Dispose()
            {
                foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
