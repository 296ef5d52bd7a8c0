using System;
using System.Collections.Generic;

namespace NenAi.Emulator
{
    /// <summary>
    /// Faults drawn from settings that can be replaced while the emulator runs (POST /_emulator/faults,
    /// /_emulator/webhooks), with scripted faults served first: the settings, the random source their seed makes
    /// repeatable, the scripts, and the one lock over them all.
    /// </summary>
    public abstract class SeededFaults<TSettings, TScript> where TSettings : class
    {
        private readonly Func<TSettings, int?> _seedOf;
        private TSettings _settings;
        private Random _random;

        protected SeededFaults(TSettings settings, Func<TSettings, int?> seedOf)
        {
            _seedOf = seedOf;
            _settings = settings;
            _random = SeededRandom.For(seedOf(settings));
        }

        /// <summary>Held while settings, random draws and scripts are read or changed.</summary>
        protected object Gate { get; } = new object();

        /// <summary>Scripted faults, in the order given; read and changed under <see cref="Gate"/>.</summary>
        protected List<TScript> Scripted { get; } = new List<TScript>();

        /// <summary>The settings in force; under <see cref="Gate"/>.</summary>
        protected TSettings Current => _settings;

        /// <summary>The random source of the settings in force; under <see cref="Gate"/>.</summary>
        protected Random Draw => _random;

        public TSettings Settings { get { lock (Gate) return _settings; } }

        /// <summary>New settings, and a random source seeded by them (the same seed draws the same faults again).</summary>
        public void Replace(TSettings settings)
        {
            lock (Gate)
            {
                _settings = settings;
                _random = SeededRandom.For(_seedOf(settings));
                OnReplaced();
            }
        }

        /// <summary>Under <see cref="Gate"/>, after new settings took effect.</summary>
        protected virtual void OnReplaced() { }

        public void Script(TScript fault) { lock (Gate) Scripted.Add(fault); }
    }
}
