/** The kit's two colour schemes; components take their colours from the nearest `ChatProvider`. */
import { StyleSheet } from 'react-native';

/** The colour scheme of the kit. */
export type Theme = 'light' | 'dark';

/** The colours a scheme names. */
export interface Palette {
  background: string;
  surface: string;
  text: string;
  muted: string;
  border: string;
  accent: string;
  accentText: string;
  mine: string;
  danger: string;
  mention: string;
}

export const PALETTES: Readonly<Record<Theme, Palette>> = {
  light: {
    background: '#ffffff',
    surface: '#f3f4f6',
    text: '#111827',
    muted: '#6b7280',
    border: '#e5e7eb',
    accent: '#4f46e5',
    accentText: '#ffffff',
    mine: '#eef2ff',
    danger: '#b91c1c',
    mention: '#fef3c7',
  },
  dark: {
    background: '#111827',
    surface: '#1f2937',
    text: '#f9fafb',
    muted: '#9ca3af',
    border: '#374151',
    accent: '#818cf8',
    accentText: '#111827',
    mine: '#312e81',
    danger: '#f87171',
    mention: '#78350f',
  },
};

/** Sizes shared by the components. */
export const base = StyleSheet.create({
  row: { flexDirection: 'row', alignItems: 'center' },
  grow: { flex: 1 },
});
