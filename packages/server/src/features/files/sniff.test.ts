import { describe, expect, it } from 'vitest';
import { servesInline, sniff } from './sniff.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex');
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(64)]);
const PDF = Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n');

describe('sniff', () => {
  it('takes the type from the bytes, and agrees with matching names and headers', async () => {
    expect(await sniff(PNG, 'a.png', 'image/png')).toEqual({
      mime: 'image/png',
      kind: 'image',
      mismatch: false,
      inline: true,
    });
    expect(await sniff(JPEG, 'a.JPG', 'image/jpg')).toMatchObject({
      mime: 'image/jpeg',
      mismatch: false,
      inline: true,
    });
    expect(await sniff(JPEG, 'a.jpeg', undefined)).toMatchObject({ mime: 'image/jpeg', mismatch: false });
    expect(await sniff(PDF, 'a.pdf', 'application/pdf')).toMatchObject({
      mime: 'application/pdf',
      kind: 'file',
      mismatch: false,
      inline: false,
    });
  });

  it('flags a renamed executable and never shows it inline', async () => {
    expect(await sniff(ELF, 'cat.png', 'image/png')).toEqual({
      mime: 'application/x-elf',
      kind: 'file',
      mismatch: true,
      inline: false,
    });
  });

  it('flags an image whose name says otherwise, and serves it as a download', async () => {
    expect(await sniff(PNG, 'report.pdf', 'application/pdf')).toMatchObject({
      mime: 'image/png',
      mismatch: true,
      inline: false,
    });
  });

  it('treats markup as active: HTML, SVG, XML are downloads whatever they are called', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>');
    expect(await sniff(svg, 'logo.svg', 'image/svg+xml')).toMatchObject({
      mime: 'image/svg+xml',
      kind: 'file',
      inline: false,
    });
    expect(await sniff(Buffer.from('\uFEFF  <!DOCTYPE html><p>'), 'notes.txt', 'text/plain')).toMatchObject({
      mime: 'text/html',
      mismatch: true,
      inline: false,
    });
    expect(await sniff(Buffer.from('<?xml version="1.0"?><a/>'), 'a.xml', undefined)).toMatchObject({
      mime: 'application/xml',
      inline: false,
    });
  });

  it('shows plain text inline only when nothing claims it is active', async () => {
    expect(await sniff(Buffer.from('hello\n'), 'a.txt', 'text/plain')).toMatchObject({
      mime: 'text/plain',
      inline: true,
    });
    expect(await sniff(Buffer.from('alert(1)\n'), 'a.js', 'text/javascript')).toMatchObject({ inline: false });
    expect(await sniff(Buffer.from('hello\n'), 'a.txt', 'text/html')).toMatchObject({ mismatch: true, inline: false });
  });

  it('calls unknown binary octet-stream, a mismatch only when the name promised media', async () => {
    const bin = Buffer.from([0, 1, 2, 3, 250, 251, 252]);
    expect(await sniff(bin, 'blob.bin', undefined)).toMatchObject({
      mime: 'application/octet-stream',
      mismatch: false,
    });
    expect(await sniff(bin, 'fake.png', 'image/png')).toMatchObject({ mismatch: true, inline: false });
  });

  it('servesInline follows the stored type, name and flag', () => {
    expect(servesInline('image/png', 'a.png', false)).toBe(true);
    expect(servesInline('image/png', 'a.png', true)).toBe(false);
    expect(servesInline('text/plain', 'a.html', false)).toBe(false);
    expect(servesInline('application/pdf', 'a.pdf', false)).toBe(false);
  });
});
