/**
 * A QR code drawn on the server as inline SVG (the `qrcode` package): no script, no image request, so it
 * works on a kiosk with JavaScript off and under the strict CSP. Error correction M, the level
 * authenticator-app setup pages commonly use; the 2-module margin keeps it scannable on a white card.
 */
import QRCode from 'qrcode';

export async function renderQrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, width: 200 });
}
