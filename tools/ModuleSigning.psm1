# Authenticode for the NenAi module folder: which files are signed, with which tool, and the check that each signature
# holds. build.ps1 -Task Package signs with the certificate it is given (-CertificatePath, or -CertificateThumbprint on
# Windows); its Test task signs a copy with a throwaway certificate (New-ThrowawayCodeSigningCertificate) for the
# signing check. Windows: Set-AuthenticodeSignature. Elsewhere: osslsigncode 2.9 or later (2.8 added PowerShell
# scripts, 2.9 '-readpass -', which reads the PFX password from standard input; Debian 12's own package is 2.5,
# bookworm-backports has 2.9, Debian 13 2.9; Ubuntu 24.04's 2.8 is too old).

Set-StrictMode -Version Latest

$script:ScriptExtensions = @('.psd1', '.psm1', '.ps1', '.ps1xml')
$script:OwnAssemblies = @('NenAi.dll', 'NenAi.Core.dll')
$script:MinimumOsslsigncode = [version]'2.9'

<#
.SYNOPSIS
    The module's files and what signing does with each: Script and OwnDll are signed; ThirdPartyDll (System.Text.Json
    and the other Microsoft packages of bin/net472) keeps the signature Microsoft gave it, which re-signing would
    replace, and is checked to carry it intact.
#>
function Get-ModuleSigningFile {
    param([Parameter(Mandatory)] [string] $ModuleFolder)
    foreach ($file in Get-ChildItem -LiteralPath $ModuleFolder -Recurse -File | Sort-Object FullName) {
        $kind = if ($script:ScriptExtensions -contains $file.Extension.ToLowerInvariant()) { 'Script' }
        elseif ($file.Extension -eq '.dll' -and $script:OwnAssemblies -contains $file.Name) { 'OwnDll' }
        elseif ($file.Extension -eq '.dll') { 'ThirdPartyDll' }
        else { continue }   # help, .pdb, .deps.json, .dll.config, LICENSE: not code that runs
        [pscustomobject]@{ Path = $file.FullName; Kind = $kind; Sign = $kind -ne 'ThirdPartyDll' }
    }
}

<#
.SYNOPSIS
    The tool that signs here: Set-AuthenticodeSignature on Windows, else osslsigncode 2.9+. Problem says why there is
    none (missing, or too old for PowerShell scripts), in words a build log can show.
#>
function Get-SigningTool {
    if (Get-Command -Name Set-AuthenticodeSignature -ErrorAction Ignore) {
        return [pscustomobject]@{ Name = 'Set-AuthenticodeSignature'; Version = $null; Problem = $null }
    }
    $command = Get-Command -Name osslsigncode -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if (-not $command) {
        return [pscustomobject]@{ Name = 'osslsigncode'; Version = $null; Problem = 'osslsigncode is not installed (Debian: apt-get install osslsigncode, 2.9 or later; bookworm: from bookworm-backports)' }
    }
    $first = "$(& $command.Source --version 2>&1 | Select-Object -First 1)"
    $version = if ($first -match 'osslsigncode\s+(\d+\.\d+)') { [version]$Matches[1] } else { $null }
    $problem = if (-not $version) { "'$($command.Source) --version' said '$first', not a version" }
    elseif ($version -lt $script:MinimumOsslsigncode) { "osslsigncode $version is too old: 2.9 or later is needed (2.8 added PowerShell scripts, 2.9 reading the PFX password from standard input; Debian bookworm: install it from bookworm-backports)" }
    else { $null }
    [pscustomobject]@{ Name = 'osslsigncode'; Path = $command.Source; Version = $version; Problem = $problem }
}

<#
.SYNOPSIS
    A self-signed code-signing certificate for one check, never for distribution: RSA 3072, SHA-256, code signing
    only, valid for two days. Writes <Folder>/throwaway.pfx (its password in the result) and throwaway.pem (the
    certificate alone, which a verifier trusts with -CAfile).
#>
function New-ThrowawayCodeSigningCertificate {
    param([Parameter(Mandatory)] [string] $Folder)
    $null = New-Item -ItemType Directory -Path $Folder -Force
    $key = [System.Security.Cryptography.RSA]::Create(3072)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            'CN=NenAi throwaway code signing (build check only)', $key, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($false, $false, 0, $true))
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new([System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]::DigitalSignature, $true))
        $usages = [System.Security.Cryptography.OidCollection]::new()
        $null = $usages.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.3', 'Code Signing'))
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usages, $false))
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509SubjectKeyIdentifierExtension]::new($request.PublicKey, $false))
        $certificate = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(2))
        $password = [guid]::NewGuid().ToString('N')
        $pfx = Join-Path $Folder 'throwaway.pfx'
        $pem = Join-Path $Folder 'throwaway.pem'
        [System.IO.File]::WriteAllBytes($pfx, $certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $password))
        [System.IO.File]::WriteAllText($pem, "-----BEGIN CERTIFICATE-----`n$([Convert]::ToBase64String($certificate.RawData, 'InsertLineBreaks'))`n-----END CERTIFICATE-----`n")
        [pscustomobject]@{
            PfxPath    = $pfx
            PemPath    = $pem
            Password   = ConvertTo-SecureString -String $password -AsPlainText -Force
            Thumbprint = $certificate.Thumbprint
            Subject    = $certificate.Subject
        }
    }
    finally { $key.Dispose() }
}

<#
.SYNOPSIS
    Signs every Script and OwnDll file of the module folder in place (Get-ModuleSigningFile), with the PFX
    (-CertificatePath, -CertificatePassword) or, on Windows, the store certificate (-CertificateThumbprint), SHA-256,
    timestamped by -TimestampServer (RFC 3161) when given. Refuses a script file that Windows PowerShell 5.1 would read
    differently from how it is signed (non-ASCII text without a byte order mark). Returns the files signed.
#>
function Invoke-ModuleSigning {
    param(
        [Parameter(Mandatory)] [string] $ModuleFolder,
        [string] $CertificatePath,
        [securestring] $CertificatePassword,
        [string] $CertificateThumbprint,
        [string] $TimestampServer
    )
    if (-not $CertificatePath -and -not $CertificateThumbprint) { throw 'Give -CertificatePath (a .pfx) or, on Windows, -CertificateThumbprint.' }
    if ($CertificatePath -and $CertificateThumbprint) { throw 'Give -CertificatePath or -CertificateThumbprint, not both.' }
    if ($CertificatePath -and -not (Test-Path -LiteralPath $CertificatePath -PathType Leaf)) { throw "The certificate file '$CertificatePath' does not exist." }
    if ($TimestampServer -and -not ([uri]::IsWellFormedUriString($TimestampServer, 'Absolute'))) { throw "-TimestampServer '$TimestampServer' is not an absolute URL (http://timestamp.example.com)." }
    $tool = Get-SigningTool
    if ($tool.Problem) { throw "Cannot sign here: $($tool.Problem)." }
    if ($CertificateThumbprint -and $tool.Name -ne 'Set-AuthenticodeSignature') { throw '-CertificateThumbprint names a certificate of the Windows certificate store; elsewhere give -CertificatePath (a .pfx).' }

    $files = @(Get-ModuleSigningFile -ModuleFolder $ModuleFolder | Where-Object Sign)
    foreach ($file in $files | Where-Object Kind -EQ 'Script') { Assert-SignableScript $file.Path }
    if ($tool.Name -eq 'Set-AuthenticodeSignature') {
        $certificate = Get-SigningCertificate -CertificatePath $CertificatePath -CertificatePassword $CertificatePassword -CertificateThumbprint $CertificateThumbprint
        foreach ($file in $files) {
            $arguments = @{ FilePath = $file.Path; Certificate = $certificate; HashAlgorithm = 'SHA256'; IncludeChain = 'NotRoot' }
            if ($TimestampServer) { $arguments.TimestampServer = $TimestampServer }
            $result = Set-AuthenticodeSignature @arguments
            if ($result.Status -eq 'HashMismatch' -or $result.Status -eq 'NotSigned' -or -not $result.SignerCertificate) { throw "Set-AuthenticodeSignature could not sign '$($file.Path)': $($result.StatusMessage)" }
        }
    }
    else {
        $password = if ($CertificatePassword) { [System.Net.NetworkCredential]::new('', $CertificatePassword).Password } else { '' }
        foreach ($file in $files) {
            $signed = "$($file.Path).signed"
            $arguments = @('sign', '-pkcs12', $CertificatePath, '-readpass', '-', '-h', 'sha256', '-n', 'NenAi', '-in', $file.Path, '-out', $signed)
            if ($TimestampServer) { $arguments += @('-ts', $TimestampServer) }
            # The password goes on standard input ('-readpass -'), never on the command line where ps would show it.
            $said = $password | & $tool.Path @arguments 2>&1
            if ($LASTEXITCODE -ne 0 -or -not (Test-Path -LiteralPath $signed)) {
                Remove-Item -LiteralPath $signed -ErrorAction Ignore
                throw "osslsigncode could not sign '$($file.Path)' (exit $LASTEXITCODE): $(($said | ForEach-Object { "$_" }) -join ' ')"
            }
            Move-Item -LiteralPath $signed -Destination $file.Path -Force
        }
    }
    $files
}

<# Windows PowerShell 5.1 reads a script without a BOM in the ANSI code page: a non-ASCII character would then hash differently from how it was signed. #>
function Assert-SignableScript {
    param([string] $Path)
    $bytes = [System.IO.File]::ReadAllBytes($Path)
    $bom = ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF) -or ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE)
    if (-not $bom -and @($bytes | Where-Object { $_ -gt 127 }).Count -gt 0) {
        throw "'$Path' has non-ASCII text and no byte order mark: Windows PowerShell 5.1 would read it in the ANSI code page and find its signature broken. Save it as UTF-8 with a BOM, or keep it ASCII."
    }
}

function Get-SigningCertificate {
    param([string] $CertificatePath, [securestring] $CertificatePassword, [string] $CertificateThumbprint)
    if ($CertificateThumbprint) {
        $found = @(foreach ($store in 'Cert:\CurrentUser\My', 'Cert:\LocalMachine\My') { Get-ChildItem -Path (Join-Path $store $CertificateThumbprint) -CodeSigningCert -ErrorAction Ignore })
        if (-not $found) { throw "No code-signing certificate with thumbprint $CertificateThumbprint (and its private key) in Cert:\CurrentUser\My or Cert:\LocalMachine\My." }
        return $found[0]
    }
    $flags = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::DefaultKeySet
    $certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Resolve-Path -LiteralPath $CertificatePath).ProviderPath, $CertificatePassword, $flags)
    if (-not $certificate.HasPrivateKey) { throw "'$CertificatePath' holds no private key: export the certificate with its key (a .pfx)." }
    $certificate
}

<#
.SYNOPSIS
    Checks every file of the module folder. Each Script and OwnDll carries a signature whose digest matches the file and
    that verifies: with osslsigncode, its chain up to -TrustedCertificate (a PEM file; the throwaway certificate of
    the signing check), or made by -SignedBy (the certificate just used: a private CA's chain cannot be checked
    against Debian's roots), or else up to a root the system trusts; on Windows, Get-AuthenticodeSignature's Valid,
    or a signature by -SignedBy / -TrustedCertificate that is otherwise intact. Each ThirdPartyDll still carries
    Microsoft's signature, intact (Debian has no Microsoft code-signing root to check its chain against). One object
    per file: Path, Kind, Valid, Signer, Detail.
#>
function Test-ModuleSignature {
    param(
        [Parameter(Mandatory)] [string] $ModuleFolder,
        [string] $TrustedCertificate,
        [System.Security.Cryptography.X509Certificates.X509Certificate2] $SignedBy
    )
    $tool = Get-SigningTool
    if ($tool.Problem) { throw "Cannot check signatures here: $($tool.Problem)." }
    $expected = if ($SignedBy) { $SignedBy } elseif ($TrustedCertificate) { [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($TrustedCertificate) } else { $null }
    foreach ($file in Get-ModuleSigningFile -ModuleFolder $ModuleFolder) {
        if ($tool.Name -eq 'Set-AuthenticodeSignature') {
            $signature = Get-AuthenticodeSignature -FilePath $file.Path
            $signer = if ($signature.SignerCertificate) { $signature.SignerCertificate.Subject } else { $null }
            $intact = $signature.SignerCertificate -and $signature.Status -notin 'HashMismatch', 'NotSigned', 'NotSupportedFileFormat', 'Incompatible'
            $valid = if ($file.Kind -eq 'ThirdPartyDll') { $intact -and $signer -like '*O=Microsoft Corporation*' }
            else { $intact -and ($signature.Status -eq 'Valid' -or ($expected -and $signature.SignerCertificate.Thumbprint -eq $expected.Thumbprint)) }
            [pscustomobject]@{ Path = $file.Path; Kind = $file.Kind; Valid = [bool]$valid; Signer = $signer; Detail = "$($signature.Status): $($signature.StatusMessage)" }
            continue
        }
        $arguments = @('verify', '-in', $file.Path)
        if ($TrustedCertificate -and $file.Kind -ne 'ThirdPartyDll') { $arguments += @('-CAfile', $TrustedCertificate) }
        $said = @(& $tool.Path @arguments 2>&1 | ForEach-Object { "$_" })
        $exit = $LASTEXITCODE
        $text = $said -join "`n"
        $signer = if ($text -match '(?m)^\s*Subject\s*:\s*(.+)$') { $Matches[1].Trim() } else { $null }
        # The serial as a number: .NET writes a leading 00 where the top bit is set, OpenSSL does not.
        $serial = if ($text -match '(?m)^\s*Serial\s*:\s*([0-9A-Fa-f]+)\s*$') { $Matches[1].ToUpperInvariant().TrimStart('0') } else { $null }
        $current = if ($text -match '(?m)^Current message digest\s*:\s*([0-9A-F]+)\s*$') { $Matches[1] } else { $null }
        $calculated = if ($text -match '(?m)^Calculated message digest\s*:\s*([0-9A-F]+)\s*$') { $Matches[1] } else { $null }
        $intact = $current -and $current -eq $calculated
        $chainOk = $exit -eq 0 -and $text -match '(?m)^Signature verification: ok'
        $valid = if ($file.Kind -eq 'ThirdPartyDll') { $intact -and $signer -like '*O=Microsoft Corporation*' }
        elseif ($SignedBy -and -not $TrustedCertificate) { $intact -and $serial -eq $SignedBy.SerialNumber.ToUpperInvariant().TrimStart('0') }
        else { $intact -and $chainOk }
        [pscustomobject]@{ Path = $file.Path; Kind = $file.Kind; Valid = [bool]$valid; Signer = $signer; Detail = ($said | Select-Object -Last 3) -join ' ' }
    }
}

Export-ModuleMember -Function Get-ModuleSigningFile, Get-SigningTool, Get-SigningCertificate, New-ThrowawayCodeSigningCertificate, Invoke-ModuleSigning, Test-ModuleSignature
