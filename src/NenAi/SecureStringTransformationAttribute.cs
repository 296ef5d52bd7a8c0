using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;

namespace NenAi
{
    /// <summary>
    /// Lets a SecureString parameter also take a PSCredential (its password) or Get-Secret output, and
    /// refuses plain strings with a message that says why. On a SecureString[] parameter each item is taken
    /// the same way (several webhook secrets during a rotation).
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class SecureStringTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject ps ? ps.BaseObject : inputData;
            if (value is IList list)
            {
                var secrets = new List<SecureString>(list.Count);
                foreach (object? item in list)
                {
                    if (ToSecureString(item) is SecureString s) secrets.Add(s);
                }
                return secrets.ToArray();
            }
            return ToSecureString(value);
        }

        /// <summary>One secret as a SecureString (null stays null); anything but a SecureString or PSCredential is refused.</summary>
        internal static SecureString? ToSecureString(object? inputData)
        {
            object? value = inputData is PSObject ps ? ps.BaseObject : inputData;
            switch (value)
            {
                case null: return null;
                case SecureString s: return s;
                case PSCredential c: return c.Password;
                case string _:
                    throw new ArgumentTransformationMetadataException(
                        "A secret must be a SecureString or PSCredential, not plain text (e.g. Read-Host -AsSecureString, Get-Secret, or Get-Credential). Plain text would linger in history and memory.");
                default:
                    throw new ArgumentTransformationMetadataException($"A secret must be a SecureString or PSCredential, not {value.GetType().Name}.");
            }
        }
    }
}
