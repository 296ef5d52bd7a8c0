using System;

namespace NenAi.Core.Configuration
{
    /// <summary>A secret a session keeps (Connect-NenService), and how it was given: shown, the value never is.</summary>
    public sealed class SessionSecret : IDisposable
    {
        private readonly SecretValue _value;

        /// <param name="value">Taken over: disposed with this.</param>
        /// <param name="origin">How it was given, e.g. "-ApiKey" or "Get-Secret 'NenApiKey'".</param>
        public SessionSecret(SecretValue value, string origin)
        {
            _value = value ?? throw new ArgumentNullException(nameof(value));
            Origin = origin ?? throw new ArgumentNullException(nameof(origin));
        }

        public string Origin { get; }

        /// <summary>
        /// A copy for one command: it may dispose its copy when it ends, and forgetting the session (Disconnect-NenService)
        /// while a copy is in use changes nothing for that command.
        /// </summary>
        public SecretValue Copy() => _value.Copy();

        /// <summary>A session secret of its own with the same value and origin (a connection kept across Connect-NenService).</summary>
        public SessionSecret Duplicate() => new SessionSecret(_value.Copy(), Origin);

        public void Dispose() => _value.Dispose();

        public override string ToString() => Origin;
    }
}
