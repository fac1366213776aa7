import { previousMonth } from '../../libs/examples/src/jobs.js';

describe('example jobs', () => {
  it.each([
    ['2026-03-01T00:30:00Z', '2026-02'],
    ['2026-01-15T12:00:00Z', '2025-12'],
    ['2024-03-31T23:59:59Z', '2024-02'],
  ])('the monthly report fired at %s covers %s', (at, month) => {
    expect(previousMonth(new Date(at))).toBe(month);
  });
});
